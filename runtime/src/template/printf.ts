import { formatValue } from './format-value.js';

/** A subset of Go's fmt.Sprintf: %v %s %d %f %g %e %q %t %x %X %o %b %c %%, with flags, width and precision. */
export function sprintf(format: string, args: unknown[], maxWidth = 4 * 1024 * 1024): string {
  let argIndex = 0;
  return format.replace(/%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])/g, (whole, flags: string, widthRaw, precRaw, verb: string) => {
    if (verb === '%') return '%';
    let width = widthRaw === '*' ? Number(args[argIndex++]) : widthRaw ? Number(widthRaw) : undefined;
    const prec = precRaw === '*' ? Number(args[argIndex++]) : precRaw !== undefined ? Number(precRaw) : undefined;
    if ((width !== undefined && width > maxWidth) || (prec !== undefined && prec > maxWidth)) throw new RangeError(`printf width ${Math.max(width ?? 0, prec ?? 0)} is larger than ${maxWidth}`);
    if (argIndex >= args.length) return `%!${verb}(MISSING)`;
    const arg = args[argIndex++];
    let out: string;
    const num = typeof arg === 'number' ? arg : typeof arg === 'bigint' ? Number(arg) : Number.NaN;
    switch (verb) {
      case 'v':
      case 's':
        out = formatValue(arg);
        if (arg === null || arg === undefined) out = verb === 'v' ? '<nil>' : '%!s(<nil>)';
        if (prec !== undefined && verb === 's') out = out.slice(0, prec);
        break;
      case 'd':
        out = Number.isNaN(num) ? `%!d(${typeof arg}=${formatValue(arg)})` : String(Math.trunc(num));
        if (flags.includes('+') && num >= 0) out = `+${out}`;
        break;
      case 'f':
      case 'F':
        out = Number.isNaN(num) ? `%!f(${typeof arg}=${formatValue(arg)})` : num.toFixed(prec ?? 6);
        if (flags.includes('+') && num >= 0) out = `+${out}`;
        break;
      case 'e':
        out = Number.isNaN(num) ? `%!e(${formatValue(arg)})` : num.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
        break;
      case 'g':
        out = Number.isNaN(num) ? `%!g(${formatValue(arg)})` : prec !== undefined ? String(Number(num.toPrecision(prec))) : String(num);
        break;
      case 'q':
        out = JSON.stringify(formatValue(arg));
        break;
      case 't':
        out = String(arg === true);
        break;
      case 'x':
      case 'X': {
        const s = typeof arg === 'string' ? Buffer.from(arg).toString('hex') : Math.trunc(num).toString(16);
        out = verb === 'X' ? s.toUpperCase() : s;
        break;
      }
      case 'o':
        out = Math.trunc(num).toString(8);
        break;
      case 'b':
        out = Math.trunc(num).toString(2);
        break;
      case 'c':
        out = String.fromCodePoint(Math.trunc(num));
        break;
      case 'T':
        out = arg === null || arg === undefined ? '<nil>' : Array.isArray(arg) ? '[]interface {}' : typeof arg === 'object' ? 'map[string]interface {}' : typeof arg === 'number' ? (Number.isInteger(arg) ? 'int' : 'float64') : typeof arg === 'boolean' ? 'bool' : 'string';
        break;
      default:
        return `%!${verb}(${formatValue(arg)})`;
    }
    if (width !== undefined && out.length < width) {
      if (flags.includes('-')) out = out.padEnd(width);
      else if (flags.includes('0') && /[dfeFgxXob]/.test(verb)) {
        const sign = /^[+-]/.test(out) ? out[0] : '';
        out = sign + out.slice(sign.length).padStart(width - sign.length, '0');
      } else out = out.padStart(width);
    }
    void whole;
    width = undefined;
    return out;
  }) + (argIndex < args.length ? `%!(EXTRA ${args.slice(argIndex).map((a) => formatValue(a)).join(', ')})` : '');
}
