import t from 'tap';
import { createTemplateEngine, TemplateExecError, TemplateSyntaxError } from '../src/template/index.js';

const engine = createTemplateEngine({ env: { GREETING: 'hello' }, now: () => new Date('2026-01-02T03:04:05.678Z') });
const data = {
  title: 'Buy milk',
  priority: '',
  count: 3,
  done: false,
  a: { b: { c: 'deep' } },
  items: [{ n: 1 }, { n: 2 }],
  tags: { z: 1, a: 2 },
  steps: { 'parse-body': { body: { title: 'From body', user_id: 42 } }, parse_body: { body: { title: 'underscore' } } },
};
const r = (src: string, d: unknown = data) => engine.render(src, d);

t.test('field chains, index and missing values', async (t) => {
  t.equal(r('{{ .title }}'), 'Buy milk');
  t.equal(r('{{ .a.b.c }}'), 'deep');
  t.equal(r('{{ .missing }}'), '', 'a missing field renders empty');
  t.equal(r('{{ .missing.deeper.still }}'), '', 'a missing chain renders empty');
  t.equal(r('{{ index .steps "parse_body" "body" "title" }}'), 'underscore');
  t.equal(r('{{ index .steps "parse-body" "body" "title" }}'), 'From body');
  t.equal(r('{{ index .steps "nope" "body" "title" }}'), '');
  t.equal(r('{{ index .items 1 }}'), 'map[n:2]', 'maps print the Go way');
  t.equal(r('{{ .steps.parse-body.body.user_id }}'), '42', 'dashes are accepted in field names');
  t.equal(r('{{parse-body.user_id}}'), '', 'old step-output form reads the step output');
  t.equal(r('{{parse-body.body.title}}'), 'From body');
  t.equal(r('no actions at all'), 'no actions at all');
  t.equal(r('{{ . }}', 'x'), 'x');
});

t.test('pipes, default and json', async (t) => {
  t.equal(r('{{ .priority | default "medium" }}'), 'medium');
  t.equal(r('{{ default "x" (index .steps "parse_body" "body" "nope") }}'), 'x');
  t.equal(r('{{ default "x" .title }}'), 'Buy milk');
  t.equal(r('{{ json .items }}'), '[{"n":1},{"n":2}]');
  t.equal(r('{{ .title | lower | upper }}'), 'BUY MILK');
  t.equal(r('{{ printf "%s has %d items (%.1f%%)" .title .count 12.34 }}'), 'Buy milk has 3 items (12.3%)');
  t.equal(r('{{ printf "%05d|%-4s|%q" 42 "ab" "x" }}'), '00042|ab  |"x"');
});

t.test('control structures', async (t) => {
  t.equal(r('{{ if .done }}yes{{ else }}no{{ end }}'), 'no');
  t.equal(r('{{ if eq .count 1 }}one{{ else if eq .count 3 }}three{{ else }}many{{ end }}'), 'three');
  t.equal(r('{{ range .items }}[{{ .n }}]{{ end }}'), '[1][2]');
  t.equal(r('{{ range $i, $v := .items }}{{ $i }}={{ $v.n }};{{ end }}'), '0=1;1=2;');
  t.equal(r('{{ range $k, $v := .tags }}{{ $k }}{{ $v }}{{ end }}'), 'a2z1', 'maps range in key order');
  t.equal(r('{{ range .nothing }}x{{ else }}empty{{ end }}'), 'empty');
  t.equal(r('{{ with .a.b }}{{ .c }}{{ end }}'), 'deep');
  t.equal(r('{{ with .missing }}x{{ else }}none{{ end }}'), 'none');
  t.equal(r('{{ $x := .count }}{{ $x }}'), '3');
  t.equal(r('{{- " a " -}}  \n  {{- "b" }}'), ' a b');
  t.equal(r('x{{/* a comment */}}y'), 'xy');
  t.equal(r('{{ range .items }}{{ if eq .n 2 }}{{ break }}{{ end }}{{ .n }}{{ end }}'), '1');
});

t.test('comparison and logic', async (t) => {
  t.equal(r('{{ and .title .count }}'), '3');
  t.equal(r('{{ or .priority "fallback" }}'), 'fallback');
  t.equal(r('{{ not .done }}'), 'true');
  t.equal(r('{{ ne .title "x" }}'), 'true');
  t.equal(r('{{ lt .count 5 }}{{ gt .count 5 }}{{ le 3 3 }}{{ ge 2 3 }}'), 'truefalsetruefalse');
  t.equal(r('{{ eq .title "a" "Buy milk" }}'), 'true', 'eq accepts several candidates');
  t.equal(r('{{ and false .missing.x }}'), 'false', 'and short-circuits');
  t.equal(r('{{ len .items }}'), '2');
});

t.test('string and value functions', async (t) => {
  t.equal(r('{{ contains "milk" .title }}'), 'true');
  t.equal(r('{{ replace "milk" "eggs" .title }}'), 'Buy eggs');
  t.equal(r('{{ trimSpace "  x  " }}'), 'x');
  t.equal(r('{{ urlEncode "a b&c" }}'), 'a%20b%26c');
  t.equal(r('{{ b64enc "hi" }}{{ b64 "hi" }}{{ b64dec "aGk=" }}'), 'aGk=aGk=hi');
  t.equal(r('{{ env "GREETING" }}{{ env "NOPE" }}'), 'hello');
  t.match(r('{{ uuidv4 }}'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(r('{{ now }}'), '2026-01-02T03:04:05Z');
  t.equal(r('{{ now "2006-01-02" }}'), '2026-01-02');
  t.equal(r('{{ now "DateTime" }}'), '2026-01-02 03:04:05');
  t.equal(r('{{ add 1 2 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }}'), '3 3 6 3');
  t.equal(r('{{ (index .items 0).n }}'), '1');
});

t.test('errors', async (t) => {
  t.throws(() => engine.compile('{{ if .x }}never closed'), TemplateSyntaxError);
  t.throws(() => engine.compile('{{ nosuchfunc .x }}'), TemplateSyntaxError);
  t.throws(() => engine.compile('{{ .x '), TemplateSyntaxError);
  t.throws(() => engine.compile('{{ end }}'), TemplateSyntaxError);
  t.throws(() => r('{{ .items.n }}'), TemplateExecError, 'field of a list is an error, as in Go');
  t.throws(() => r('{{ lt .title 3 }}'), TemplateExecError);
  t.throws(() => r('{{ .title 3 }}'), TemplateExecError);
});

t.test('renderValue renders nested YAML values', async (t) => {
  t.same(engine.renderValue({ a: '{{ .title }}', n: 5, list: ['{{ .count }}', true] }, data), {
    a: 'Buy milk',
    n: 5,
    list: ['3', true],
  });
});
