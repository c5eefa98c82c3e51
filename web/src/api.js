// The HTTP API, with the admin token from localStorage (asked for once, see main.js).
const TOKEN_KEY = 'touchpoint.adminToken';

export const token = {
  get: () => {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
  },
  set: (t) => { try { localStorage.setItem(TOKEN_KEY, t); } catch { /* private mode: session only */ } },
  clear: () => { try { localStorage.removeItem(TOKEN_KEY); } catch { /* ignore */ } },
};

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    // 503 while the server loads its stored events: {percent, events_loaded, events_total, seconds}.
    this.loading = status === 503 && body && body.loading ? body.loading : null;
  }
}

export async function request(method, path, body) {
  const headers = { Authorization: `Bearer ${token.get()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `cannot reach the server (${e.message})`);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, (json && json.error) || text || `HTTP ${res.status}`, json);
  return json;
}

export const get = (path) => request('GET', path);

// The catalog rarely changes; one copy per minute is plenty for names.
let catalogCache = null;
export function catalog() {
  if (!catalogCache || Date.now() - catalogCache.at > 60000) {
    const promise = get('/api/v1/catalog').then(indexCatalog);
    catalogCache = { at: Date.now(), promise };
    promise.catch(() => { catalogCache = null; });
  }
  return catalogCache.promise;
}

// id -> {name, parent, ...} for campaigns, ad groups and ads.
function indexCatalog(cat) {
  const campaigns = new Map();
  const adgroups = new Map();
  const ads = new Map();
  for (const c of cat.campaigns || []) {
    campaigns.set(c.campaign_id, { id: c.campaign_id, name: c.name || c.campaign_id });
    for (const g of c.adgroups || []) {
      adgroups.set(g.adgroup_id, { id: g.adgroup_id, name: g.name || g.adgroup_id, campaign: c.campaign_id,
        click_window_days: g.click_window_days, view_window_days: g.view_window_days });
      for (const a of g.ads || []) {
        ads.set(a.ad_id, { id: a.ad_id, name: a.name || a.ad_id, adgroup: g.adgroup_id, campaign: c.campaign_id,
          creative: a.creative || {} });
      }
    }
  }
  return { campaigns, adgroups, ads, raw: cat };
}

// GET /healthz (no token): {"status":"ok"}, or "loading" with the load's progress.
export async function health() {
  const res = await fetch('/healthz', { cache: 'no-store' });
  return res.json();
}
