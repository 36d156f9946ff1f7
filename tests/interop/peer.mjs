// A Fedify 1.5.9 peer for the interop suite (tests/interop/run-interop.sh).
//
//   node peer.mjs [PORT]        (0 or nothing: pick a free port)
//
// Serves one Person actor, "peer", on http://127.0.0.1:PORT with an RSA
// (RSASSA-PKCS1-v1_5) and an Ed25519 key pair: publicKey carries the RSA key,
// assertionMethod both keys as Multikeys. When it listens it prints one JSON
// line to stdout: {"port":…,"origin":…,"actor":…,"inbox":…}.
//
// Fedify endpoints (federation.fetch):
//   GET  /users/peer                  the actor
//   POST /users/peer/inbox, /inbox    inboxes (Fedify verifies proof or HTTP signature)
//   GET  /users/peer/followers        followers collection
//   GET  /users/peer/notes/{id}       the notes it wrote
//
// Test endpoints (plain JSON, no signatures; loopback only, never federated):
//   GET  /received           what the inbox listeners saw: only activities that Fedify
//                            verified reach a listener. Each entry has the raw body and
//                            headers as received, Fedify's own reading of it, and
//                            proofVerified / httpSignatureVerified, checked again
//                            separately with Fedify's verifyObject and verifyRequest.
//   GET  /inbox-log          every POST to an inbox with Fedify's response status
//                            (also the refused ones)
//   GET  /sent               every activity Fedify POSTed, with the response status
//   GET  /state              followers, follows (with their Accept state) and failed
//                            deliveries of Accepts
//   POST /control/follow     {"target": ACTOR_URL}: lookupObject, then send a Follow
//   POST /control/note       {"content": HTML}: send a Create(Note) to the followers
//   POST /control/reply      {"to": ACTOR_URL, "inReplyTo": URL, "content": HTML}: send a
//                            Create(Note) replying to inReplyTo to that actor's inbox
//   POST /control/flag       {"to": ACTOR_URL, "object": URL, "content": TEXT}: send a Flag
//   POST /control/update     {"to": ACTOR_URL, "note": NOTE_URL, "content": HTML}: change one
//                            of its notes and send Update(Note) to that actor
//   POST /control/delete     {"to": ACTOR_URL, "note": NOTE_URL}: send Delete(Tombstone)
//
// PEER_HOST (default 127.0.0.1) is the host it listens on and names itself by
// ("localhost" gives a peer on another domain than 127.0.0.1, for block tests).
//
// Fedify logs through LogTape; warnings and errors of the category "fedify" go to
// stderr (PEER_LOG_LEVEL=debug for everything, e.g. why a proof did not verify).
import { serve } from "@hono/node-server";
import {
  Accept,
  Activity,
  Create,
  createFederation,
  Delete,
  Flag,
  Tombstone,
  Update,
  Endpoints,
  Follow,
  generateCryptoKeyPair,
  isActor,
  MemoryKvStore,
  Note,
  Person,
  PUBLIC_COLLECTION,
  verifyObject,
  verifyRequest,
} from "@fedify/fedify";
import { configure, getTextFormatter } from "@logtape/logtape";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

const IDENT = "peer";
const HOST = process.env.PEER_HOST || "127.0.0.1";
const port = Number(process.argv[2] ?? 0);

// ---- logging ----------------------------------------------------------------

const fmt = getTextFormatter({ timestamp: "time" });
await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: { stderr: (record) => process.stderr.write("[fedify] " + fmt(record)) },
  loggers: [
    {
      category: ["fedify"],
      sinks: ["stderr"],
      lowestLevel: process.env.PEER_LOG_LEVEL ?? "warning",
    },
    { category: ["logtape", "meta"], sinks: ["stderr"], lowestLevel: "warning" },
  ],
});

// ---- what the test can query ------------------------------------------------------

const received = []; // verified activities, as the inbox listeners saw them
const inboxLog = []; // every inbox POST and Fedify's answer
const sent = []; // every activity Fedify delivered
const followers = new Map(); // actor id -> { id, inbox, sharedInbox, follow }
const following = new Map(); // actor id -> { follow, state }
const notes = new Map(); // note id (local part) -> Note
const errors = []; // deliveries from the listeners that failed
const rawByKey = new Map(); // activity id -> { body, headers } of the POST being handled

// Record every POST Fedify makes (its deliveries), with the exact body it sent.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const req = input instanceof Request ? input : new Request(input, init);
  if (req.method !== "POST") return realFetch(req);
  const body = await req.clone().text();
  const res = await realFetch(req);
  let json = null;
  try {
    json = JSON.parse(body);
  } catch {
    /* not JSON */
  }
  sent.push({
    url: req.url,
    status: res.status,
    headers: Object.fromEntries(req.headers),
    activity: json,
    response: res.ok ? undefined : await res.clone().text(),
  });
  return res;
};

// ---- keys -------------------------------------------------------------------

const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const ed = await generateCryptoKeyPair("Ed25519");

// ---- federation -------------------------------------------------------------

const federation = createFederation({
  kv: new MemoryKvStore(),
  allowPrivateAddress: true,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== IDENT) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify interop peer",
      summary: "A Fedify 1.5.9 actor in the dinet interop suite.",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      url: ctx.getActorUri(identifier),
      manuallyApprovesFollowers: false,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) => {
    if (identifier !== IDENT) return [];
    return [rsa, ed];
  });

federation.setFollowersDispatcher("/users/{identifier}/followers", async (_ctx, identifier) => {
  if (identifier !== IDENT) return null;
  const items = [...followers.values()].map((f) => ({
    id: new URL(f.id),
    inboxId: new URL(f.inbox),
    endpoints: f.sharedInbox ? { sharedInbox: new URL(f.sharedInbox) } : null,
  }));
  return { items };
});

federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", async (_ctx, values) => {
  if (values.identifier !== IDENT) return null;
  return notes.get(values.id) ?? null;
});

// Records a verified activity: the raw POST body, Fedify's reading, and two separate
// checks with Fedify's own functions, so the test can tell which one verified it.
async function record(ctx, activity) {
  const raw = rawByKey.get(activity.id?.href) ?? null;
  let proofVerified = null;
  if (raw?.body?.proof) {
    try {
      const withoutSig = { ...raw.body };
      delete withoutSig.signature;
      proofVerified =
        (await verifyObject(Activity, withoutSig, {
          contextLoader: ctx.contextLoader,
          documentLoader: ctx.documentLoader,
        })) != null;
    } catch (e) {
      proofVerified = false;
      raw.proofError = String(e);
    }
  } else if (raw) {
    proofVerified = false;
  }
  let httpSignatureVerified = null;
  if (raw?.request) {
    try {
      httpSignatureVerified =
        (await verifyRequest(raw.request.clone(), {
          contextLoader: ctx.contextLoader,
          documentLoader: ctx.documentLoader,
        })) != null;
    } catch {
      httpSignatureVerified = false;
    }
  }
  let object = null;
  try {
    object = await activity.getObject();
  } catch {
    /* an object we cannot fetch */
  }
  received.push({
    id: activity.id?.href ?? null,
    type: activity.constructor.name,
    actor: activity.actorId?.href ?? null,
    objectType: object?.constructor?.name ?? null,
    objectId: object?.id?.href ?? null,
    name: object?.name?.toString() ?? null,
    proofVerified,
    httpSignatureVerified,
    headers: raw?.headers ?? null,
    raw: raw?.body ?? null,
    parsed: await activity.toJsonLd({ contextLoader: ctx.contextLoader }),
  });
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    if (follow.id == null || follow.actorId == null || follow.objectId == null) return;
    const parsed = ctx.parseUri(follow.objectId);
    if (parsed?.type !== "actor" || parsed.identifier !== IDENT) return;
    const follower = await follow.getActor();
    if (!isActor(follower) || follower.inboxId == null) return;
    followers.set(follower.id.href, {
      id: follower.id.href,
      inbox: follower.inboxId.href,
      sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
      follow: follow.id.href,
    });
    // Without a queue Fedify delivers at once; a refused Accept must not turn the
    // answer to the Follow into a 500, so the error is kept for /state instead.
    try {
      await ctx.sendActivity(
        { identifier: IDENT },
        follower,
        new Accept({
          id: new URL(`${ctx.getActorUri(IDENT).href}/accepts/${randomUUID()}`),
          actor: ctx.getActorUri(IDENT),
          to: follower.id,
          object: follow,
        }),
      );
    } catch (e) {
      errors.push(`Accept to ${follower.id.href}: ${e?.message ?? e}`);
      process.stderr.write(`[peer] sending the Accept failed: ${e?.message ?? e}\n`);
    }
  })
  .on(Accept, async (ctx, accept) => {
    await record(ctx, accept);
    const obj = await accept.getObject();
    const fid = obj?.id?.href ?? accept.objectId?.href;
    for (const f of following.values()) {
      if (f.follow === fid && accept.actorId?.href === f.actor) f.state = "accepted";
    }
  })
  .on(Activity, async (ctx, activity) => {
    await record(ctx, activity);
  })
  .onError((_ctx, error) => {
    process.stderr.write(`[peer] inbox listener error: ${error?.stack ?? error}\n`);
  });

// ---- HTTP server ----------------------------------------------------------------------

let origin = null;

function json(data, status = 200) {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}

async function control(request, url) {
  const ctx = federation.createContext(new URL(origin), undefined);
  const body = await request.json().catch(() => ({}));
  if (url.pathname === "/control/follow") {
    const target = await ctx.lookupObject(body.target);
    if (!isActor(target)) return json({ error: `${body.target} is not an actor` }, 422);
    const follow = new Follow({
      id: new URL(`${ctx.getActorUri(IDENT).href}/follows/${randomUUID()}`),
      actor: ctx.getActorUri(IDENT),
      object: target.id,
      to: target.id,
    });
    following.set(target.id.href, {
      actor: target.id.href,
      follow: follow.id.href,
      state: "pending",
    });
    await ctx.sendActivity({ identifier: IDENT }, target, follow);
    return json({ follow: follow.id.href, actor: target.id.href, type: target.constructor.name });
  }
  if (url.pathname === "/control/note") {
    const nid = randomUUID();
    const note = new Note({
      id: ctx.getObjectUri(Note, { identifier: IDENT, id: nid }),
      attribution: ctx.getActorUri(IDENT),
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(IDENT),
      content: body.content ?? "<p>Hallo aus dem Fedify-Testpeer.</p>",
    });
    notes.set(nid, note);
    const create = new Create({
      id: new URL(`${ctx.getActorUri(IDENT).href}/creates/${nid}`),
      actor: ctx.getActorUri(IDENT),
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(IDENT),
      object: note,
    });
    await ctx.sendActivity({ identifier: IDENT }, "followers", create, {
      preferSharedInbox: true,
    });
    return json({ create: create.id.href, note: note.id.href, followers: followers.size });
  }
  if (url.pathname === "/control/reply") {
    const target = await ctx.lookupObject(body.to);
    if (!isActor(target)) return json({ error: `${body.to} is not an actor` }, 422);
    const nid = randomUUID();
    const note = new Note({
      id: ctx.getObjectUri(Note, { identifier: IDENT, id: nid }),
      attribution: ctx.getActorUri(IDENT),
      to: PUBLIC_COLLECTION,
      cc: target.id,
      replyTarget: new URL(body.inReplyTo),
      content: body.content ?? "<p>Eine Antwort vom Fedify-Testpeer.</p>",
    });
    notes.set(nid, note);
    const create = new Create({
      id: new URL(`${ctx.getActorUri(IDENT).href}/creates/${nid}`),
      actor: ctx.getActorUri(IDENT),
      to: PUBLIC_COLLECTION,
      cc: target.id,
      object: note,
    });
    let error = null;
    try {
      await ctx.sendActivity({ identifier: IDENT }, target, create);
    } catch (e) {
      error = String(e?.message ?? e);
    }
    return json({ create: create.id.href, note: note.id.href, error });
  }
  if (url.pathname === "/control/update" || url.pathname === "/control/delete") {
    const target = await ctx.lookupObject(body.to);
    if (!isActor(target)) return json({ error: `${body.to} is not an actor` }, 422);
    const nid = String(body.note ?? "").split("/").at(-1);
    const old = notes.get(nid);
    if (!old) return json({ error: `no note ${body.note}` }, 404);
    let activity;
    if (url.pathname === "/control/update") {
      const note = old.clone({ content: body.content ?? "<p>geändert</p>" });
      notes.set(nid, note);
      activity = new Update({
        id: new URL(`${ctx.getActorUri(IDENT).href}/updates/${randomUUID()}`),
        actor: ctx.getActorUri(IDENT),
        to: PUBLIC_COLLECTION,
        cc: target.id,
        object: note,
      });
    } else {
      notes.delete(nid);
      activity = new Delete({
        id: new URL(`${ctx.getActorUri(IDENT).href}/deletes/${randomUUID()}`),
        actor: ctx.getActorUri(IDENT),
        to: PUBLIC_COLLECTION,
        cc: target.id,
        object: new Tombstone({ id: old.id }),
      });
    }
    let error = null;
    try {
      await ctx.sendActivity({ identifier: IDENT }, target, activity);
    } catch (e) {
      error = String(e?.message ?? e);
    }
    return json({ activity: activity.id.href, error });
  }
  if (url.pathname === "/control/flag") {
    const target = await ctx.lookupObject(body.to);
    if (!isActor(target)) return json({ error: `${body.to} is not an actor` }, 422);
    const flag = new Flag({
      id: new URL(`${ctx.getActorUri(IDENT).href}/flags/${randomUUID()}`),
      actor: ctx.getActorUri(IDENT),
      object: new URL(body.object),
      content: body.content ?? "offensive",
      to: target.id,
    });
    let error = null;
    try {
      await ctx.sendActivity({ identifier: IDENT }, target, flag);
    } catch (e) {
      error = String(e?.message ?? e);
    }
    return json({ flag: flag.id.href, error });
  }
  return json({ error: "unknown control endpoint" }, 404);
}

const INBOXES = new Set([`/users/${IDENT}/inbox`, "/inbox"]);

async function handle(request) {
  const url = new URL(request.url);
  try {
    if (request.method === "GET" && url.pathname === "/received") return json(received);
    if (request.method === "GET" && url.pathname === "/inbox-log") return json(inboxLog);
    if (request.method === "GET" && url.pathname === "/sent") return json(sent);
    if (request.method === "GET" && url.pathname === "/state")
      return json({
        followers: [...followers.values()],
        following: [...following.values()],
        errors,
      });
    if (request.method === "POST" && url.pathname.startsWith("/control/"))
      return await control(request, url);
    if (request.method === "POST" && INBOXES.has(url.pathname)) {
      const text = await request.clone().text();
      let body = null;
      try {
        body = JSON.parse(text);
      } catch {
        /* Fedify answers 400 */
      }
      const headers = Object.fromEntries(request.headers);
      if (body?.id) rawByKey.set(body.id, { body, headers, request: request.clone() });
      const res = await federation.fetch(request, { contextData: undefined });
      inboxLog.push({
        path: url.pathname,
        id: body?.id ?? null,
        type: body?.type ?? null,
        actor: body?.actor ?? null,
        status: res.status,
        response: await res.clone().text(),
      });
      return res;
    }
    return await federation.fetch(request, { contextData: undefined });
  } catch (e) {
    process.stderr.write(`[peer] ${request.method} ${url.pathname}: ${e?.stack ?? e}\n`);
    return json({ error: String(e?.message ?? e) }, 500);
  }
}

const server = serve({ fetch: handle, hostname: HOST, port }, (info) => {
  origin = `http://${HOST}:${info.port}`;
  const ctx = federation.createContext(new URL(origin), undefined);
  process.stdout.write(
    JSON.stringify({
      port: info.port,
      origin,
      actor: ctx.getActorUri(IDENT).href,
      inbox: ctx.getInboxUri(IDENT).href,
      sharedInbox: ctx.getInboxUri().href,
    }) + "\n",
  );
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
