// The peer of the side-by-side benchmark: panva's oidc-provider, one process,
// an in-memory store, listening on 127.0.0.1 only.
//
// `node server.mjs CONFIG.json` reads the port, the issuer, the clients, the
// scopes and claims and the one member from the file the harness writes, so
// that both providers are configured alike. Signing keys (RS256 and ES256)
// are generated at start, as a fresh installation of ours makes its own.
//
// The member is logged in and the consent given without any page: the
// interaction route finishes every interaction at once for that member,
// granting what the client asked for. The harness goes through it once per
// browser to get the session cookie; every later authorization request finds
// the session and the standing grant and answers with a code directly.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function signingKey(alg, type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg.toLowerCase()}-1` };
}

const keys = [
  signingKey('RS256', 'rsa', { modulusLength: 2048 }),
  signingKey('ES256', 'ec', { namedCurve: 'P-256' }),
];

const member = config.member;

// oidc-provider's own in-memory adapter is an LRU of 1,000 entries: under load
// it drops live tokens and sessions. This one keeps every entry until it
// expires, as a database would.
const entries = new Map();
const grants = new Map();

class MemoryStore {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
    entries.set(key, { payload, expiresAt });
    if (payload.grantId) {
      const members = grants.get(payload.grantId) ?? new Set();
      members.add(key);
      grants.set(payload.grantId, members);
    }
    if (payload.uid) entries.set(`${this.model}:uid:${payload.uid}`, { payload: id, expiresAt });
  }

  async find(id) {
    const entry = entries.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    const entry = entries.get(`${this.model}:uid:${uid}`);
    return entry && entry.expiresAt > Date.now() ? this.find(entry.payload) : undefined;
  }

  async findByUserCode() {
    return undefined;
  }

  async consume(id) {
    const entry = entries.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) entries.delete(key);
    grants.delete(grantId);
  }
}

setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
}, 10_000).unref();

const provider = new Provider(config.issuer, {
  adapter: MemoryStore,
  clients: config.clients,
  jwks: { keys },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: config.scopes,
  claims: config.claims,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // As ours: a client learns about its own tokens only.
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    userinfo: { enabled: true },
  },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    ClientCredentials: 3600,
    IdToken: 3600,
    Grant: 86400,
    Interaction: 600,
    Session: 86400,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    if (sub !== member.sub) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...member.claims }) };
  },
});

provider.on('server_error', (ctx, error) => {
  process.stderr.write(`server_error ${ctx.path}: ${error.stack}\n`);
});

// Login and consent in one step, for the benchmark's member only.
provider.use(async (ctx, next) => {
  if (ctx.method !== 'GET' || !ctx.path.startsWith('/interaction/')) return next();
  const { params } = await provider.interactionDetails(ctx.req, ctx.res);
  const grant = new provider.Grant({ accountId: member.sub, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    ctx.req,
    ctx.res,
    { login: { accountId: member.sub }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
  ctx.respond = false;
  return undefined;
});

const server = createServer(provider.callback());
server.keepAliveTimeout = 5000;
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${config.issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
