// ShadowScope service worker: enrols this browser with the collector, keeps the policy, and delivers the events
// the content script records. Everything that must survive the worker being stopped (the device credential, the
// policy, the event queue, the batch in flight, the retry schedule) lives in chrome.storage.local; sending is
// driven by new events and by chrome.alarms, so a restarted worker picks up where the last one stopped. A heartbeat
// (POST /ext/v1/heartbeat) tells the collector every few minutes that this browser is alive and what it holds back.
"use strict";

importScripts("detect.js");

const SCHEMA_VERSION = "1.1";
const MAX_BATCH = 100; // events per POST
const MAX_QUEUE = 5000; // oldest events are dropped past this, so a long outage cannot fill the disk
const POLICY_REFRESH_MS = 10 * 60 * 1000;
const BACKOFF_BASE_MS = 2000;
const BACKOFF_MAX_MS = 15 * 60 * 1000;
const READY_WAIT_MS = 8000;
const HEARTBEAT_DEFAULT_MINUTES = 5;
const HEARTBEAT_MIN_MINUTES = 1;
const HEARTBEAT_MAX_MINUTES = 24 * 60;
const VERSION = chrome.runtime.getManifest().version;

// --- storage, one writer at a time -------------------------------------------------------------------------
let chain = Promise.resolve();
function locked(fn) {
  const run = chain.then(fn, fn);
  chain = run.catch(() => {});
  return run;
}
const load = (keys) => chrome.storage.local.get(keys);
const save = (items) => chrome.storage.local.set(items);

async function setStatus(patch) {
  const { status = {} } = await load("status");
  await save({ status: { ...status, ...patch, updated_at: new Date().toISOString() } });
}

// --- configuration: enterprise policy first, then the development fallback ---------------------------------
async function readConfig() {
  let managed = {};
  try {
    managed = await chrome.storage.managed.get(null);
  } catch (error) {
    managed = {}; // no managed storage on this platform or no policy pushed
  }
  const { config = {} } = await load("config");
  const pick = (name) => (managed[name] ? String(managed[name]) : config[name] ? String(config[name]) : "");
  const url = pick("collector_url").replace(/\/+$/, "");
  return {
    collector_url: url,
    enrolment_token: pick("enrolment_token"),
    device_name: pick("device_name"),
    user: pick("user"),
    heartbeat_minutes: heartbeatMinutes(pick("heartbeat_minutes")),
    source: managed.collector_url ? "managed" : config.collector_url ? "local" : "none",
  };
}

/** The heartbeat interval in whole minutes: the setting when it is a number in range, else the default. */
function heartbeatMinutes(value) {
  const minutes = Math.round(Number(value));
  if (!value || !Number.isFinite(minutes)) return HEARTBEAT_DEFAULT_MINUTES;
  return Math.min(HEARTBEAT_MAX_MINUTES, Math.max(HEARTBEAT_MIN_MINUTES, minutes));
}

// --- collector API -----------------------------------------------------------------------------------------
class HttpError extends Error {
  constructor(status, body, retryAfter) {
    const message = body && body.error && body.error.message ? body.error.message : `HTTP ${status}`;
    super(message);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

async function call(url, { method = "GET", credential, body } = {}) {
  const headers = { Accept: "application/json" };
  if (credential) headers.Authorization = `Bearer ${credential}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  let parsed = null;
  try {
    parsed = await response.json();
  } catch (error) {
    parsed = null;
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After"));
    throw new HttpError(response.status, parsed, Number.isFinite(retryAfter) ? retryAfter : null);
  }
  return parsed;
}

// --- enrolment and policy ----------------------------------------------------------------------------------
async function enrol(config) {
  const { device, enrol_refused } = await load(["device", "enrol_refused"]);
  if (device && device.collector_url === config.collector_url && !device.revoked) return device;
  if (!config.collector_url || !config.enrolment_token) return null;
  if (enrol_refused === config.enrolment_token) return null; // the same refused token would be refused again
  const name = config.device_name || `browser-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const answer = await call(`${config.collector_url}/ext/v1/enrol`, {
      method: "POST",
      body: { token: config.enrolment_token, device_name: name, extension_version: VERSION },
    });
    const enrolled = {
      device_id: answer.device_id,
      credential: answer.credential,
      collector_url: config.collector_url,
      device_name: name,
      enrolled_at: new Date().toISOString(),
    };
    await save({ device: enrolled, policy: null });
    await setStatus({ enrolled: true, last_error: null });
    sendHeartbeat(); // the collector lists the device at once, with its version; not awaited, failures only logged
    return enrolled;
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) await save({ enrol_refused: config.enrolment_token });
    await setStatus({ enrolled: false, last_error: `enrolment: ${error.message}` });
    return null;
  }
}

async function refreshPolicy(force = false) {
  const { device, policy } = await load(["device", "policy"]);
  if (!device || device.revoked) return policy || null;
  const maxAge = policy && policy.refresh_seconds ? policy.refresh_seconds * 1000 : POLICY_REFRESH_MS;
  if (!force && policy && Date.now() - policy.fetched_at < maxAge) return policy;
  try {
    const fresh = await call(`${device.collector_url}/ext/v1/policy`, { credential: device.credential });
    fresh.fetched_at = Date.now();
    await save({ policy: fresh });
    await setStatus({ policy_version: fresh.version, last_error: null });
    return fresh;
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) await markRevoked(device);
    await setStatus({ last_error: `policy: ${error.message}` });
    return policy || null; // keep enforcing the last policy we had
  }
}

async function markRevoked(device) {
  await save({ device: { ...device, revoked: true } });
  await setStatus({ enrolled: false, last_error: "the collector no longer knows this device; a new enrolment token is needed" });
}

let readying = null;
function ensureReady(forcePolicy = false) {
  if (!readying) {
    readying = (async () => {
      const config = await readConfig();
      const device = await enrol(config);
      if (!device) return null;
      return refreshPolicy(forcePolicy);
    })().finally(() => {
      readying = null;
    });
  }
  return readying;
}

function toolForHost(policy, host) {
  if (!policy || !Array.isArray(policy.tools) || !host) return null;
  host = host.toLowerCase().replace(/\.$/, "");
  let best = null;
  let bestLength = -1;
  for (const tool of policy.tools) {
    for (const name of tool.hosts || []) {
      const h = String(name).toLowerCase();
      if ((host === h || host.endsWith(`.${h}`)) && h.length > bestLength) {
        best = tool;
        bestLength = h.length;
      }
    }
  }
  return best;
}

let adaptersPromise = null;
function adapters() {
  if (!adaptersPromise) {
    adaptersPromise = fetch(chrome.runtime.getURL("adapters/adapters.json")).then((r) => r.json());
  }
  return adaptersPromise;
}

async function adapterFor(toolId, host) {
  const all = await adapters();
  const own = all.tools[toolId];
  if (own) return { ...all.generic, ...own, tool_id: toolId, generic: all.generic };
  for (const [id, entry] of Object.entries(all.tools)) {
    if ((entry.hosts || []).some((h) => host === h || host.endsWith(`.${h}`))) {
      return { ...all.generic, ...entry, tool_id: id, generic: all.generic };
    }
  }
  return { ...all.generic, tool_id: null, generic: all.generic };
}

// --- events ------------------------------------------------------------------------------------------------
let hmacKey = null;
async function hmacHex(keyBase64, text) {
  if (!hmacKey || hmacKey.source !== keyBase64) {
    const raw = Uint8Array.from(atob(keyBase64), (c) => c.charCodeAt(0));
    const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKey = { source: keyBase64, key };
  }
  const signature = await crypto.subtle.sign("HMAC", hmacKey.key, new TextEncoder().encode(text));
  return Array.from(new Uint8Array(signature), (b) => b.toString(16).padStart(2, "0")).join("");
}

const HOST_RE = /^[A-Za-z0-9_*]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$/;

/** One event of the contract from what the content script saw; the text goes out only when the policy says so. */
async function buildEvent(message, policy, device, config) {
  const event = {
    kind: message.kind,
    event_id: crypto.randomUUID(),
    device_id: device.device_id,
    tool_id: message.tool_id || null,
    host: HOST_RE.test(message.host || "") ? message.host : "unknown",
    occurred_at: message.occurred_at || new Date().toISOString(),
  };
  if (config.user) event.user = config.user.slice(0, 256);
  if (message.verdict) {
    event.verdict = { action: message.verdict.action, user_choice: message.verdict.user_choice || "none" };
    if (message.verdict.justification) event.verdict.justification = String(message.verdict.justification).slice(0, 256);
  }
  const text = typeof message.text === "string" ? message.text : null;
  if (message.kind === "prompt" || message.kind === "paste") {
    if (policy.send_text) {
      event.text = (text || "").slice(0, 200000);
    } else {
      event.findings = await findings(text || "", policy);
    }
  } else if (message.kind === "upload") {
    event.file_name = String(message.file_name || "unnamed").slice(0, 256);
    event.file_size = Math.max(0, Number(message.file_size) || 0);
    event.media_type = message.media_type ? String(message.media_type).slice(0, 256) : null;
    event.file_sha256 = message.file_sha256;
    if (text !== null) event.findings = await findings(text, policy);
  } else if (message.kind !== "visit") {
    return null;
  }
  return event;
}

async function findings(text, policy) {
  const analysis = self.ShadowScopeDetect.analyse(text);
  return {
    labels: analysis.labels,
    entity_counts: analysis.entity_counts,
    text_hmac: await hmacHex(policy.hash_key, text),
    text_length: text.length,
  };
}

async function record(message) {
  const policy = await ensureReady();
  const { device } = await load("device");
  if (!policy || !device) return { queued: false, reason: "not enrolled" };
  const config = await readConfig();
  const event = await buildEvent(message, policy, device, config);
  if (!event) return { queued: false, reason: "unknown kind" };
  await locked(async () => {
    const { queue = [], health = {} } = await load(["queue", "health"]);
    // queued_at is the queue's own bookkeeping (the heartbeat's oldest_spooled_at); it is removed before sending.
    queue.push({ ...event, queued_at: new Date().toISOString() });
    const dropped = Math.max(0, queue.length - MAX_QUEUE);
    await save({
      queue: dropped ? queue.slice(dropped) : queue,
      health: { ...health, events: (health.events || 0) + 1, dropped_events: (health.dropped_events || 0) + dropped },
    });
  });
  scheduleFlush(0);
  return { queued: true, event_id: event.event_id };
}

// --- delivery ----------------------------------------------------------------------------------------------
let flushing = null;
let flushTimer = null;

function scheduleFlush(delayMs) {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = setTimeout(() => {
    flushTimer = null;
    flush();
  }, Math.max(0, delayMs));
  // The worker may be stopped before the timer fires; the alarm wakes it again.
  chrome.alarms.create("flush", { when: Date.now() + Math.max(delayMs, 1000) });
}

function flush() {
  if (!flushing) {
    flushing = deliver().finally(() => {
      flushing = null;
    });
  }
  return flushing;
}

async function deliver() {
  for (;;) {
    const { device, retry = {} } = await load(["device", "retry"]);
    if (!device || device.revoked) return "not enrolled";
    if (retry.next_at && retry.next_at > Date.now()) {
      chrome.alarms.create("flush", { when: retry.next_at });
      return "waiting";
    }
    const batch = await locked(async () => {
      const { inflight, queue = [] } = await load(["inflight", "queue"]);
      if (inflight) return inflight;
      if (queue.length === 0) return null;
      // The batch id is fixed before the first attempt: a retry after a lost answer is recognised as the same batch.
      const taken = queue.slice(0, MAX_BATCH);
      const next = {
        batch_id: crypto.randomUUID(),
        queued_at: oldestQueuedAt(taken),
        events: taken.map(({ queued_at, ...event }) => event),
      };
      await save({ inflight: next, queue: queue.slice(MAX_BATCH) });
      return next;
    });
    if (!batch) return "empty";
    const body = {
      schema_version: SCHEMA_VERSION,
      batch_id: batch.batch_id,
      sent_at: new Date().toISOString(),
      events: batch.events,
    };
    try {
      await call(`${device.collector_url}/ext/v1/telemetry`, { method: "POST", credential: device.credential, body });
      await save({ inflight: null, retry: {} });
      await setStatus({ last_sent_at: new Date().toISOString(), last_error: null });
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 0;
      if (status === 401) {
        await markRevoked(device);
        return "revoked";
      }
      if (status === 400 || status === 403 || status === 413 || status === 422) {
        // The collector will never accept this batch as it is: drop it rather than block everything behind it.
        await locked(async () => {
          const { health = {} } = await load("health");
          await save({ inflight: null, retry: {}, health: { ...health, rejected: (health.rejected || 0) + 1 } });
        });
        await setStatus({ last_error: `telemetry refused (${status}): ${error.message}`, dropped_batch: batch.batch_id });
        continue;
      }
      const failures = (retry.failures || 0) + 1;
      let delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
      delay = delay / 2 + Math.random() * (delay / 2);
      if (status === 429 && error.retryAfter) delay = Math.max(delay, error.retryAfter * 1000);
      const nextAt = Date.now() + delay;
      await save({ retry: { failures, next_at: nextAt } });
      await setStatus({ last_error: `telemetry: ${error.message}` });
      scheduleFlush(delay);
      return "retrying";
    }
  }
}

// --- heartbeat ---------------------------------------------------------------------------------------------
// Mirrors the sensor's (sensor/heartbeat.py): a snapshot of what this browser holds back, never queued or retried,
// because only the newest matters. The counters live in storage, so they survive the worker being stopped; they
// start again from zero when the browser starts or the extension is installed or updated (the producer restarts).

/** When the oldest of these queued events was queued (older entries without a stamp: when it happened). */
function oldestQueuedAt(events) {
  let oldest = null;
  for (const event of events) {
    const at = event.queued_at || event.occurred_at;
    if (at && (!oldest || Date.parse(at) < Date.parse(oldest))) oldest = at;
  }
  return oldest;
}

/** The heartbeat body of events/heartbeat.py: backlog from the queue and the batch in flight, counters, no content. */
async function heartbeatBody(device) {
  const { queue = [], inflight = null, health = {} } = await load(["queue", "inflight", "health"]);
  const sentAt = new Date();
  const spoolBatches = (inflight ? 1 : 0) + Math.ceil(queue.length / MAX_BATCH);
  // Approximate size: the JSON the waiting events will be sent as (characters, which is bytes for ASCII).
  const spoolBytes = (inflight ? JSON.stringify(inflight.events).length : 0) + (queue.length ? JSON.stringify(queue).length : 0);
  const stamps = [inflight && (inflight.queued_at || oldestQueuedAt(inflight.events)), oldestQueuedAt(queue.slice(0, 1))];
  let oldest = null;
  for (const at of stamps) if (at && (!oldest || Date.parse(at) < oldest)) oldest = Date.parse(at);
  if (oldest !== null) oldest = Math.min(oldest, sentAt.getTime()); // never after sent_at, whatever a stamp says
  return {
    producer_id: device.device_id,
    kind: "extension",
    version: VERSION,
    sent_at: sentAt.toISOString(),
    spool_batches: spoolBatches,
    spool_bytes: spoolBytes,
    oldest_spooled_at: spoolBatches > 0 && oldest !== null ? new Date(oldest).toISOString() : null,
    // The queue drops events, not batches: count them as the batches of MAX_BATCH they would have filled.
    dropped_for_space: Math.ceil((health.dropped_events || 0) / MAX_BATCH),
    rejected: health.rejected || 0,
    events: health.events || 0,
  };
}

/** Send one heartbeat now with the device credential. Never throws, never queues: a failure is logged and the next
 *  beat replaces it. Returns what was sent and the collector's receipt or error, for debugging and the test. */
async function sendHeartbeat() {
  const { device } = await load("device");
  if (!device || device.revoked) return { sent: null, error: "not enrolled" };
  const body = await heartbeatBody(device);
  try {
    const receipt = await call(`${device.collector_url}/ext/v1/heartbeat`, {
      method: "POST",
      credential: device.credential,
      body,
    });
    await setStatus({ last_heartbeat_at: body.sent_at });
    return { sent: body, receipt };
  } catch (error) {
    console.warn("ShadowScope: heartbeat not delivered:", error.message);
    return { sent: body, error: error.message };
  }
}

/** Keep the periodic heartbeat alarm at the configured interval. An existing alarm with the right period is left
 *  alone: re-creating it on every worker start would push the next beat back each time the worker wakes. */
async function scheduleHeartbeat(config) {
  const minutes = (config || (await readConfig())).heartbeat_minutes;
  const existing = await chrome.alarms.get("heartbeat");
  if (existing && existing.periodInMinutes === minutes) return minutes;
  await chrome.alarms.create("heartbeat", { delayInMinutes: minutes, periodInMinutes: minutes });
  return minutes;
}

async function resetHealthCounters() {
  await locked(() => save({ health: { since: new Date().toISOString(), events: 0, dropped_events: 0, rejected: 0 } }));
}

// --- messages from the content script and the options page ------------------------------------------------
async function pageContext(host) {
  let policy = await Promise.race([ensureReady(), new Promise((r) => setTimeout(() => r(null), READY_WAIT_MS))]);
  if (!policy) policy = (await load("policy")).policy;
  const tool = toolForHost(policy, host);
  if (!tool) return { tool: null };
  const adapter = await adapterFor(tool.id, host);
  return {
    tool: { id: tool.id, name: tool.name, status: tool.status || policy.default_status },
    actions: policy.actions || {},
    redirect: policy.redirect || null,
    adapter,
    policy_version: policy.version,
  };
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const fromExtensionPage = sender.url && sender.url.startsWith(chrome.runtime.getURL(""));
  let work;
  if (message && message.type === "page") {
    work = pageContext(message.host);
  } else if (message && message.type === "record") {
    work = record(message);
  } else if (message && message.type === "status" && fromExtensionPage) {
    work = (async () => {
      const { status = {}, queue = [], device, policy } = await load(["status", "queue", "device", "policy"]);
      return {
        status,
        queued: queue.length,
        device_id: device ? device.device_id : null,
        policy_version: policy ? policy.version : null,
        config: await readConfig(),
      };
    })();
  } else if (message && message.type === "sync" && fromExtensionPage) {
    work = ensureReady(true).then(() => flush());
  } else {
    return false;
  }
  work.then(sendResponse, (error) => sendResponse({ error: String(error) }));
  return true; // answered asynchronously
});

// --- lifecycle ---------------------------------------------------------------------------------------------
function onAlarm(alarm) {
  if (alarm.name === "flush") return flush();
  if (alarm.name === "tick") return ensureReady().then(() => flush());
  if (alarm.name === "heartbeat") return sendHeartbeat();
  return Promise.resolve(null);
}
chrome.alarms.onAlarm.addListener(onAlarm);

chrome.storage.onChanged.addListener((changes, area) => {
  if ((area === "local" && changes.config) || (area === "managed" && Object.keys(changes).length)) {
    ensureReady(true).then(() => flush());
    scheduleHeartbeat().catch((error) => console.warn("ShadowScope: heartbeat alarm:", error.message));
  }
});

function start() {
  // The device credential and the queued texts' findings are for this worker and the options page only.
  if (chrome.storage.local.setAccessLevel) {
    chrome.storage.local.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" }).catch(() => {});
  }
  chrome.alarms.create("tick", { periodInMinutes: 1 });
  scheduleHeartbeat().catch((error) => console.warn("ShadowScope: heartbeat alarm:", error.message));
  ensureReady().then(() => flush());
}

// The browser started or the extension was installed or updated: the producer's counters start again.
chrome.runtime.onInstalled.addListener(() => resetHealthCounters().then(start));
chrome.runtime.onStartup.addListener(() => resetHealthCounters().then(start));
start();

// For the end-to-end test and for debugging from the worker's console.
self.shadowscope = {
  ensureReady,
  refreshPolicy,
  flush,
  record,
  readConfig,
  toolForHost,
  onAlarm,
  sendHeartbeat,
  heartbeatBody,
  scheduleHeartbeat,
};
