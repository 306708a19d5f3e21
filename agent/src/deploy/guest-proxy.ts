/**
 * The guest's front door for zero-downtime swaps: a tiny TCP proxy (plain Node, no dependencies) that listens on
 * the app's public port and pipes each new connection to the slot port written in its `active` file. Switching
 * versions is one atomic rename of that file; connections already open finish on the old slot.
 */
export const GUEST_PROXY_MJS = `// wharf guest proxy: HOST PORT ACTIVE_FILE
import net from 'node:net';
import { readFileSync } from 'node:fs';
const [host, port, activeFile] = process.argv.slice(2);
const server = net.createServer((client) => {
  let target = 0;
  try { target = Number(readFileSync(activeFile, 'utf8').trim()); } catch {}
  if (!(target > 0)) { client.destroy(); return; }
  const upstream = net.connect(target, '127.0.0.1');
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
  client.pipe(upstream).pipe(client);
});
server.listen(Number(port), host, () => console.log('listening http://' + host + ':' + port));
process.on('SIGTERM', () => { server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 5000).unref(); });
`;
