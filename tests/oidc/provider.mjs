// A real OpenID Connect provider for the login tests: panva's oidc-provider (OpenID certified),
// with its development login page (any password) and a few fixed accounts.
//
//   node tests/oidc/provider.mjs <port> <redirect_uri>
//
// prints "READY <issuer>" once it listens on 127.0.0.1. Install once with
// `npm ci --prefix tests/oidc` (.ci/run does); nothing is downloaded at test time.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const redirectUri = process.argv[3];
const issuer = `http://localhost:${port}`;

// login -> claims. Groups come in the ID token (scope "groups").
const ACCOUNTS = {
  alice: { email: 'alice@lending.example', name: 'Alice Lender', groups: ['credit-risk'] },
  bob: { email: 'bob@fraud.example', name: 'Bob Fraud', groups: ['fraud-team'] },
  olga: { email: 'olga@ops.example', name: 'Olga Operator', groups: ['platform'] },
  eve: { email: 'eve@elsewhere.example', name: 'Eve Nobody', groups: [] },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'readiness-app',
    client_secret: 'test-secret-not-for-production',
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  conformIdTokenClaims: false, // the app reads the ID token's claims (st.user)
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['test-cookie-key-not-for-production'] },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name, groups: account.groups };
      },
    };
  },
});
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
