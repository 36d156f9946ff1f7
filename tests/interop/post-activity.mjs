// Posts one activity to an inbox with a draft-cavage HTTP signature that is valid or
// deliberately broken, optionally after tampering with the activity. Prints one JSON
// line: {"status": …, "body": …, "id": …}.
//
//   node post-activity.mjs --inbox URL --activity FILE --key-id KEY_ID --rsa-key PEM_FILE
//        [--break-signature] [--tamper-object] [--fresh-id] [--out FILE]
//
// --break-signature  sign correctly, then flip bits in the signature value: the
//                    headers stay well-formed, only the signature is wrong
// --tamper-object    change one character of object.name (or object.content) after
//                    the activity was proved; the proof stays as it was
// --fresh-id         give the activity a new id (also after proving)
// --out FILE         write the body as posted to FILE
import { createHash, createPrivateKey, randomUUID, sign } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const flag = (name) => args.includes(name);

const inbox = new URL(opt("--inbox"));
const activity = JSON.parse(readFileSync(opt("--activity"), "utf8"));
const keyId = opt("--key-id");
const key = createPrivateKey(readFileSync(opt("--rsa-key"), "utf8"));

if (flag("--tamper-object")) {
  const o = activity.object;
  const field = typeof o?.name === "string" ? "name" : "content";
  if (typeof o?.[field] !== "string" || o[field].length === 0) {
    console.error("post-activity: the object has no name or content to tamper with");
    process.exit(2);
  }
  // Change exactly one character: the last one becomes another letter.
  const s = o[field];
  const last = s.at(-1) === "X" ? "Y" : "X";
  o[field] = s.slice(0, -1) + last;
}
if (flag("--fresh-id")) {
  activity.id = activity.id.replace(/[^/]*$/, "tampered-" + randomUUID());
}

const body = JSON.stringify(activity);
if (opt("--out")) writeFileSync(opt("--out"), JSON.stringify(activity, null, 2) + "\n");

const date = new Date().toUTCString();
const digest = "SHA-256=" + createHash("sha256").update(body).digest("base64");
const contentType = "application/activity+json";
const target = `post ${inbox.pathname}${inbox.search}`;
const signingString = [
  `(request-target): ${target}`,
  `host: ${inbox.host}`,
  `date: ${date}`,
  `digest: ${digest}`,
  `content-type: ${contentType}`,
].join("\n");
const sig = sign("sha256", Buffer.from(signingString), key);
if (flag("--break-signature")) {
  for (let i = 0; i < 8; i++) sig[i] ^= 0x5a;
}
const signature =
  `keyId="${keyId}",algorithm="rsa-sha256",` +
  `headers="(request-target) host date digest content-type",signature="${sig.toString("base64")}"`;

const res = await fetch(inbox, {
  method: "POST",
  headers: {
    "Content-Type": contentType,
    Accept: "application/activity+json",
    Date: date,
    Digest: digest,
    Signature: signature,
  },
  body,
  signal: AbortSignal.timeout(20000),
});
console.log(JSON.stringify({ status: res.status, body: await res.text(), id: activity.id }));
