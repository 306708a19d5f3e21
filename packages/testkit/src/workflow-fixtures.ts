/** Small valid Workflow configs and manifests that tests commit. */

/** An HTTP server and router. */
export const workflow = (port = 8080, extra = ''): string => `# an HTTP app
modules:
  - name: server
    type: http.server
    config:
      address: ":${port}"
  - name: router
    type: http.router
    dependsOn: [server]
${extra}`;

/** The same config with other comments, quoting, indentation and key order (the same digest). */
export const workflowReformatted = (port = 8080): string => `modules:
    # the server first
    - type: "http.server"
      name: 'server'
      config: { address: ":${port}" }
    - dependsOn:
        - server
      name: router   # routes
      type: http.router
`;

/** A wharf.yaml listing `apps` with their file globs. */
export const manifest = (apps: { name: string; files: string[] }[], extra = ''): string =>
  `apps:\n${apps.map((a) => `  - name: ${a.name}\n    files: [${a.files.map((f) => JSON.stringify(f)).join(', ')}]\n`).join('')}${extra}`;
