/** The schema of agent.yaml (`wharf agent run --config agent.yaml`); docs/agent.md describes every key. */
export const agentConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['controlPlane', 'proxmox', 'guest'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$', description: 'The agent name shown in Wharf (default: the host name).' },
    stateDir: { type: 'string', minLength: 1, description: 'Where the agent keeps its state, credential and SSH key (relative to this file). Default: ./wharf-agent-state' },
    controlPlane: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^https?://[^\\s]+$', description: 'Wharf control plane; https:// (http:// only for loopback addresses).' },
        registrationToken: { type: 'string', pattern: '^wharf_reg_[A-Za-z0-9_-]{16,}$', description: 'Bootstrap token; `wharf agent register` exchanges it and removes it from this file.' },
      },
    },
    proxmox: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'tokenId', 'fingerprint'],
      properties: {
        url: { type: 'string', pattern: '^https://[^\\s/]+(:[0-9]+)?/?$' },
        tokenId: { type: 'string', pattern: '^[^!\\s]+@[^!\\s]+![A-Za-z0-9_.-]+$', description: 'USER@REALM!TOKENID' },
        tokenSecret: { type: 'string', minLength: 1 },
        tokenSecretFile: { type: 'string', minLength: 1 },
        fingerprint: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:?){32}$', description: "SHA-256 fingerprint of the node's certificate" },
        pool: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'Resource pool every guest goes into' },
      },
    },
    guest: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'templates', 'user'],
          properties: {
            kind: { const: 'qemu' },
            templates: { type: 'object', minProperties: 1, additionalProperties: { type: 'integer', minimum: 100 } },
            full: { type: 'boolean' },
            storage: { type: 'string' },
            user: { type: 'string', pattern: '^[a-z_][a-z0-9_-]{0,31}$' },
            ipconfig0: { type: 'string' },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'ostemplate', 'storage'],
          properties: {
            kind: { const: 'lxc' },
            nodes: { type: 'array', items: { type: 'string' } },
            ostemplate: { type: 'string', pattern: '^[^:\\s]+:vztmpl/\\S+$' },
            storage: { type: 'string' },
            memoryMiB: { type: 'integer', minimum: 64 },
            net0: { type: 'string' },
          },
        },
      ],
    },
    ssh: {
      type: 'object',
      additionalProperties: false,
      properties: {
        privateKeyFile: { type: 'string', description: 'OpenSSH private key (default: stateDir/id_ed25519, created on first start).' },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
      },
    },
    runtime: {
      type: 'object',
      additionalProperties: false,
      properties: {
        appPort: { type: 'integer', minimum: 1, maximum: 65535, description: 'Port the guest serves the environment on (default 8080).' },
        packageDir: { type: 'string', description: 'A runtime package built with `wharf agent build-runtime` (default: built at start).' },
      },
    },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        addressSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
        healthSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
      },
    },
    concurrency: { type: 'integer', minimum: 1, maximum: 64, description: 'Environments applied at once (default 4).' },
  },
} as const;
