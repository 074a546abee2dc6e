#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// proto-wire.js: the Node half of the proto wire-compatibility test
// (ctest proto_wire_compat). It speaks only through the official npm package
// @hyperledger/fabric-protos: its generated classes decode what reso-ledger's
// protobuf-c code encoded, and encode what protobuf-c must decode.
//
//   node proto-wire.js decode DIR [--proto-dir PROTO]
//       DIR holds <name>.bin files and manifest.json written by
//       tests/unit/proto/proto_vectors. Every instance is decoded with
//       <Class>.deserializeBinary and every manifest field is compared with
//       the class's own getter. The official re-encoding must give back the
//       same bytes (so no field travelled under a number Fabric does not
//       know). With --proto-dir, every message and field declared in
//       PROTO/**/*.proto must be covered. Finally each expected value is
//       altered in turn to prove that the comparison notices.
//   node proto-wire.js encode DIR
//       Builds core messages (Header, ChannelHeader, Proposal,
//       SignedProposal, ChaincodeMessage, gateway requests, Envelope,
//       google.rpc.Status with an Any) with the official setters and writes
//       <name>.bin plus manifest.json for `proto_vectors verify DIR`.
//
// Exit status: 0 all good, 1 a mismatch, 2 bad usage or missing packages.
// The manifest format is described in tests/unit/proto/wire_vectors.h.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const MANIFEST = 'manifest.json';

function die(code, msg) {
    process.stderr.write(`proto-wire: ${msg}\n`);
    process.exit(code);
}

// ---- The official classes ------------------------------------------------

let fabric;
let Timestamp;
let Any;
try {
    fabric = require('@hyperledger/fabric-protos');
    // The well-known types come from the google-protobuf copy that
    // fabric-protos itself loads, so Status.details holds these very Any
    // objects.
    const fpDir = path.dirname(require.resolve('@hyperledger/fabric-protos'));
    const gp = path.dirname(require.resolve('google-protobuf/package.json',
        { paths: [fpDir] }));
    Timestamp = require(path.join(gp, 'google/protobuf/timestamp_pb.js')).Timestamp;
    Any = require(path.join(gp, 'google/protobuf/any_pb.js')).Any;
} catch (e) {
    die(2, `cannot load @hyperledger/fabric-protos (${e.message}); ` +
        'run scripts/setup.sh');
}

// Proto package -> namespace of fabric-protos ("protos" is exported as peer).
const PACKAGES = {
    common: fabric.common,
    msp: fabric.msp,
    protos: fabric.peer,
    orderer: fabric.orderer,
    gateway: fabric.gateway,
    queryresult: fabric.ledger.queryresult,
    rwset: fabric.ledger.rwset,
    kvrwset: fabric.ledger.rwset.kvrwset,
    'google.rpc': fabric.google.rpc,
    'google.protobuf': { Timestamp, Any },
};

function classFor(fullName) {
    const dot = fullName.lastIndexOf('.');
    const ns = PACKAGES[fullName.slice(0, dot)];
    const cls = ns && ns[fullName.slice(dot + 1)];
    if (typeof cls !== 'function' || typeof cls.deserializeBinary !== 'function') {
        throw new Error(`no class for ${fullName} in @hyperledger/fabric-protos`);
    }
    return cls;
}

// google-protobuf's JS names: words split at "_", each lower-cased and
// capitalised ("TransientMap" -> "Transientmap", "startKey" -> "Startkey").
function jsName(protoName) {
    return protoName.split('_').filter(Boolean)
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
        .join('');
}

// obj[prefix + Name + suffix]. Names that clash with jspb's own methods
// get a "$" (setExtension$); that form wins, since the plain one exists too.
function method(obj, prefix, protoName, suffix) {
    const n = jsName(protoName);
    for (const cand of [prefix + n + '$' + suffix, prefix + n + suffix]) {
        if (typeof obj[cand] === 'function') return obj[cand].bind(obj);
    }
    throw new Error(`${obj.constructor.name} has no ${prefix}${n}${suffix}() ` +
        `for field "${protoName}"`);
}

// ---- Value helpers ---------------------------------------------------------

function toU8(v) {
    if (v instanceof Uint8Array) return v;
    if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
    return new Uint8Array(0);
}

const hex = (u8) => Buffer.from(u8).toString('hex');

function show(v) {
    if (v instanceof Uint8Array) return `hex ${hex(v)}`;
    if (typeof v === 'bigint') return v.toString();
    if (v === undefined) return 'undefined';
    return JSON.stringify(v);
}

function getterFor(obj, name, jv) {
    if (jv.t === 'repeated') {
        const bytes = jv.items.length > 0 && jv.items[0].t === 'bytes';
        return method(obj, 'get', name, bytes ? 'List_asU8' : 'List');
    }
    if (jv.t === 'map') return method(obj, 'get', name, 'Map');
    return method(obj, 'get', name, jv.t === 'bytes' ? '_asU8' : '');
}

function caseValues(obj) {
    const proto = Object.getPrototypeOf(obj);
    return Object.getOwnPropertyNames(proto)
        .filter((n) => /^get\w+Case$/.test(n))
        .map((n) => obj[n]());
}

// ---- Comparison (official object vs manifest) -----------------------------

function compareValue(got, jv, at, errs) {
    const fail = (want, have) => errs.push(`${at}: expected ${want}, got ${have}`);
    switch (jv.t) {
    case 'string':
    case 'bool':
    case 'int32':
    case 'uint32':
    case 'enum':
        if (got !== jv.v) fail(JSON.stringify(jv.v), show(got));
        break;
    case 'int64':
    case 'uint64': {
        // The official classes return 64-bit fields as JS numbers (or
        // strings); compare exactly as integers.
        let ok = false;
        try {
            ok = BigInt(got) === BigInt(jv.v);
        } catch (e) {
            ok = false;
        }
        if (!ok) fail(jv.v, show(got));
        break;
    }
    case 'bytes': {
        const u8 = toU8(got);
        if (hex(u8) !== jv.hex) fail(`hex ${jv.hex}`, `hex ${hex(u8)}`);
        if (jv.packed) {
            let inner;
            try {
                inner = classFor(jv.packed.type).deserializeBinary(u8);
            } catch (e) {
                errs.push(`${at}<${jv.packed.type}>: cannot decode: ${e.message}`);
                break;
            }
            compareMessage(inner, jv.packed, `${at}<${jv.packed.type}>`, errs);
        }
        break;
    }
    case 'message':
        compareMessage(got, jv, at, errs);
        break;
    default:
        errs.push(`${at}: manifest value type "${jv.t}" is unknown`);
    }
}

function compareField(obj, name, jv, at, errs) {
    let get;
    try {
        get = getterFor(obj, name, jv);
    } catch (e) {
        errs.push(`${at}: ${e.message}`);
        return;
    }
    if (jv.oneof) {
        const cases = caseValues(obj);
        if (!cases.includes(jv.number)) {
            errs.push(`${at}: expected oneof case ${jv.number}, got ${show(cases)}`);
            return;
        }
    }
    const got = get();
    if (jv.t === 'repeated') {
        if (!Array.isArray(got) || got.length !== jv.items.length) {
            errs.push(`${at}: expected ${jv.items.length} items, got ` +
                `${Array.isArray(got) ? got.length : show(got)}`);
            return;
        }
        jv.items.forEach((item, i) => compareValue(got[i], item, `${at}[${i}]`, errs));
        return;
    }
    if (jv.t === 'map') {
        if (got.getLength() !== jv.entries.length) {
            errs.push(`${at}: expected ${jv.entries.length} map entries, got ` +
                `${got.getLength()}`);
            return;
        }
        for (const e of jv.entries) {
            const key = e.key.t === 'int64' || e.key.t === 'uint64' ? Number(e.key.v) : e.key.v;
            if (!got.has(key)) {
                errs.push(`${at}[${show(key)}]: expected map key, not decoded`);
                continue;
            }
            compareValue(got.get(key), e.value, `${at}[${show(key)}]`, errs);
        }
        return;
    }
    if (jv.t === 'message' && got === undefined) {
        errs.push(`${at}: expected a ${jv.type}, got none`);
        return;
    }
    compareValue(got, jv, at, errs);
}

function compareMessage(obj, jm, at, errs) {
    if (obj === undefined || obj === null) {
        errs.push(`${at}: expected a ${jm.type}, got none`);
        return;
    }
    if (jm.type === 'google.protobuf.Any' && jm.fields.value && jm.fields.value.packed) {
        // Use the package's own Any API as a client would.
        const inner = jm.fields.value.packed;
        const cls = classFor(inner.type);
        const unpacked = obj.unpack(cls.deserializeBinary, inner.type);
        if (unpacked === null) {
            errs.push(`${at}: Any.unpack(${inner.type}) gave null ` +
                `(type name ${show(obj.getTypeName())})`);
        }
    }
    for (const [name, jv] of Object.entries(jm.fields)) {
        const num = jv.number === undefined ? '' : ` (#${jv.number})`;
        compareField(obj, name, jv, `${at}.${name}${num}`, errs);
    }
}

// ---- decode: C vectors -> official classes --------------------------------

function readManifest(dir) {
    const file = path.join(dir, MANIFEST);
    let m;
    try {
        m = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
        die(2, `cannot read ${file}: ${e.message}`);
    }
    if (!Array.isArray(m.instances) || m.instances.length === 0) {
        die(2, `${file} lists no instances`);
    }
    return m;
}

function decodeInstance(dir, inst) {
    const bin = fs.readFileSync(path.join(dir, path.basename(inst.file)));
    const obj = classFor(inst.message.type).deserializeBinary(new Uint8Array(bin));
    return { bin, obj };
}

// The distinctive-value rules every C-generated leaf must follow.
function auditValue(jv, at, owner, errs) {
    const exempt = owner === 'google.protobuf.Timestamp' || owner === 'google.protobuf.Any';
    switch (jv.t) {
    case 'string':
        if (!exempt && !/[^\x00-\x7f]/.test(jv.v)) errs.push(`${at}: string is ASCII only`);
        break;
    case 'bytes':
        if (!jv.packed && !(/^(..)*00/.test(jv.hex) && /^(..)*ff/.test(jv.hex))) {
            errs.push(`${at}: bytes lack 0x00 or 0xff`);
        }
        if (jv.packed) auditMessage(jv.packed, `${at}<${jv.packed.type}>`, errs);
        break;
    case 'int32':
        if (!exempt && !(jv.v < 0)) errs.push(`${at}: int32 is not negative`);
        break;
    case 'uint32':
        if (!(jv.v >= 2 ** 31)) errs.push(`${at}: uint32 is not above 2^31`);
        break;
    case 'uint64':
        if (!(BigInt(jv.v) > 2n ** 53n)) errs.push(`${at}: uint64 is not above 2^53`);
        break;
    case 'int64':
    case 'bool':
        if (jv.v === '0' || jv.v === false) errs.push(`${at}: default value`);
        break;
    case 'enum':
        if (jv.v === 0 && !jv.sole_value) errs.push(`${at}: enum is zero`);
        break;
    case 'message':
        auditMessage(jv, at, errs);
        break;
    case 'repeated':
        if (jv.items.length < 2) errs.push(`${at}: fewer than 2 items`);
        jv.items.forEach((it, i) => auditValue(it, `${at}[${i}]`, owner, errs));
        break;
    case 'map':
        if (jv.entries.length < 2) errs.push(`${at}: fewer than 2 entries`);
        jv.entries.forEach((e, i) => {
            auditValue(e.key, `${at}{${i}}.key`, owner, errs);
            auditValue(e.value, `${at}{${i}}.value`, owner, errs);
        });
        break;
    default:
        errs.push(`${at}: unknown value type ${jv.t}`);
    }
}

function auditMessage(jm, at, errs) {
    for (const [name, jv] of Object.entries(jm.fields)) {
        auditValue(jv, `${at}.${name}`, jm.type, errs);
    }
}

// Messages and fields declared in the .proto sources (comments stripped;
// enough of the grammar for hand-written Fabric protos).
function parseProtoDir(dir) {
    const files = [];
    const walk = (d) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.endsWith('.proto')) files.push(p);
        }
    };
    walk(dir);
    const messages = new Map();
    for (const file of files) {
        const text = fs.readFileSync(file, 'utf8')
            .replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
        const pkg = (/\bpackage\s+([\w.]+)\s*;/.exec(text) || [])[1] || '';
        const stack = [];
        const re = /\b(message|enum|oneof|service)\s+(\w+)\s*\{|\{|\}|\b(repeated\s+)?(map\s*<[^>]*>|[A-Za-z_][\w.]*)\s+(\w+)\s*=\s*(\d+)/g;
        let m;
        while ((m = re.exec(text)) !== null) {
            if (m[1]) {
                const outer = stack.filter((s) => s.kind === 'message').map((s) => s.name);
                const full = [pkg, ...outer, m[2]].filter(Boolean).join('.');
                stack.push({ kind: m[1], name: m[2], full });
                if (m[1] === 'message') messages.set(full, { file, fields: new Map() });
            } else if (m[0] === '{') {
                stack.push({ kind: 'other' });
            } else if (m[0] === '}') {
                stack.pop();
            } else if (m[5]) {
                const top = stack[stack.length - 1];
                if (!top || (top.kind !== 'message' && top.kind !== 'oneof')) continue;
                const owner = top.kind === 'message' ? top
                    : stack.slice(0, -1).reverse().find((s) => s.kind === 'message');
                messages.get(owner.full).fields.set(m[5], {
                    number: Number(m[6]), oneof: top.kind === 'oneof',
                });
            }
        }
    }
    return messages;
}

function checkCoverage(manifest, protoDir, errs) {
    const declared = parseProtoDir(protoDir);
    if (declared.size === 0) {
        errs.push(`coverage: no message found under ${protoDir}`);
        return;
    }
    for (const [full, decl] of declared) {
        const insts = manifest.instances.filter((i) => i.message.type === full);
        if (insts.length === 0) {
            errs.push(`coverage: ${full} (${path.relative(protoDir, decl.file)}) has no vector`);
            continue;
        }
        for (const [fname, f] of decl.fields) {
            const seen = insts.map((i) => i.message.fields[fname]).filter(Boolean);
            if (seen.length === 0) {
                errs.push(`coverage: ${full}.${fname} (#${f.number}) is never set`);
            } else if (seen.some((jv) => jv.number !== f.number)) {
                errs.push(`coverage: ${full}.${fname}: proto text says #${f.number}, ` +
                    `protoc-c said #${seen[0].number}`);
            }
        }
    }
}

// Every mutable node of a manifest value, in a fixed order.
function mutationPoints(jv, out) {
    switch (jv.t) {
    case 'message':
        for (const f of Object.values(jv.fields)) mutationPoints(f, out);
        break;
    case 'repeated':
        out.push(() => jv.items.pop());
        jv.items.forEach((it) => mutationPoints(it, out));
        break;
    case 'map':
        out.push(() => { jv.entries[0].key.v += 'x'; });
        jv.entries.forEach((e) => mutationPoints(e.value, out));
        break;
    case 'bytes':
        out.push(() => {
            const last = jv.hex.slice(-1) === '0' ? '1' : '0';
            jv.hex = jv.hex.slice(0, -1) + last;
            delete jv.packed;
        });
        if (jv.packed) mutationPoints(jv.packed, out);
        break;
    case 'string':
        out.push(() => { jv.v += 'x'; });
        break;
    case 'bool':
        out.push(() => { jv.v = !jv.v; });
        break;
    case 'int64':
    case 'uint64':
        out.push(() => { jv.v = (BigInt(jv.v) + 1n).toString(); });
        break;
    default:
        out.push(() => { jv.v += 1; });
    }
}

function cmdDecode(dir, protoDir) {
    const manifest = readManifest(dir);
    const failures = [];
    let fields = 0;
    let mutations = 0;
    for (const inst of manifest.instances) {
        const errs = [];
        let dec;
        try {
            dec = decodeInstance(dir, inst);
        } catch (e) {
            failures.push(`FAIL ${inst.name}: cannot decode with the official class: ${e.message}`);
            continue;
        }
        compareMessage(dec.obj, inst.message, inst.message.type, errs);
        const again = Buffer.from(dec.obj.serializeBinary());
        if (errs.length === 0 && !again.equals(dec.bin)) {
            errs.push(`official re-encoding differs from the C bytes (${again.length} vs ` +
                `${dec.bin.length} bytes: C hex ${dec.bin.toString('hex')}, official hex ` +
                `${again.toString('hex')}); a field number unknown to Fabric was dropped`);
        }
        auditMessage(inst.message, inst.message.type, errs);
        if (errs.length === 0) {
            // The comparison must notice each single change of an expected value.
            const count = [];
            mutationPoints(inst.message, count);
            for (let k = 0; k < count.length; k++) {
                const copy = structuredClone(inst.message);
                const points = [];
                mutationPoints(copy, points);
                points[k]();
                const found = [];
                compareMessage(dec.obj, copy, inst.message.type, found);
                if (found.length === 0) {
                    errs.push(`self-test: mutation ${k} of the manifest went unnoticed`);
                }
                mutations++;
            }
            fields += count.length;
        }
        for (const e of errs) failures.push(`FAIL ${inst.name}: ${e}`);
    }
    if (protoDir) {
        const errs = [];
        checkCoverage(manifest, protoDir, errs);
        for (const e of errs) failures.push(`FAIL ${e}`);
    }
    for (const f of failures) process.stderr.write(`${f}\n`);
    if (failures.length > 0) {
        process.stderr.write(`proto-wire: ${failures.length} failure(s)\n`);
        return 1;
    }
    process.stdout.write(`proto-wire: ${manifest.instances.length} C-encoded messages decode ` +
        `as expected with @hyperledger/fabric-protos (${fields} values, ${mutations} ` +
        `mutations detected${protoDir ? ', every declared message and field covered' : ''})\n`);
    return 0;
}

// ---- encode: official classes -> bytes for protobuf-c ----------------------

// Sets fields through the official setters and records the manifest value.
class Builder {
    constructor(type) {
        this.obj = new (classFor(type))();
        this.json = { t: 'message', type, fields: {} };
    }

    put(name, setterSuffix, value, jv) {
        method(this.obj, 'set', name, setterSuffix)(value);
        this.json.fields[name] = jv;
        return this;
    }

    string(name, v) { return this.put(name, '', v, { t: 'string', v }); }

    bytes(name, u8) { return this.put(name, '', u8, { t: 'bytes', hex: hex(u8) }); }

    int32(name, v) { return this.put(name, '', v, { t: 'int32', v }); }

    uint32(name, v) { return this.put(name, '', v, { t: 'uint32', v }); }

    enumv(name, v) { return this.put(name, '', v, { t: 'enum', v }); }

    bool(name, v) { return this.put(name, '', v, { t: 'bool', v }); }

    // 64-bit setters take JS numbers: only exactly representable values.
    int64(name, big, t = 'int64') {
        const n = Number(big);
        if (BigInt(n) !== big) throw new Error(`${name}: ${big} is not exact as a double`);
        return this.put(name, '', n, { t, v: big.toString() });
    }

    uint64(name, big) { return this.int64(name, big, 'uint64'); }

    message(name, type, fill) {
        const b = new Builder(type);
        fill(b);
        return this.put(name, '', b.obj, b.json);
    }

    // A bytes field holding a serialized message, as Fabric nests headers.
    packed(name, type, fill) {
        const b = new Builder(type);
        fill(b);
        const u8 = b.obj.serializeBinary();
        return this.put(name, '', u8, { t: 'bytes', hex: hex(u8), packed: b.json });
    }

    strings(name, list) {
        return this.put(name, 'List', list, {
            t: 'repeated', items: list.map((v) => ({ t: 'string', v })),
        });
    }

    bytesList(name, list) {
        return this.put(name, 'List', list, {
            t: 'repeated', items: list.map((u8) => ({ t: 'bytes', hex: hex(u8) })),
        });
    }

    messages(name, type, fills) {
        const built = fills.map((fill) => {
            const b = new Builder(type);
            fill(b);
            return b;
        });
        return this.put(name, 'List', built.map((b) => b.obj), {
            t: 'repeated', items: built.map((b) => b.json),
        });
    }

    bytesMap(name, entries) {
        const map = method(this.obj, 'get', name, 'Map')();
        for (const [k, u8] of entries) map.set(k, u8);
        this.json.fields[name] = {
            t: 'map',
            entries: entries.map(([k, u8]) => ({
                key: { t: 'string', v: k }, value: { t: 'bytes', hex: hex(u8) },
            })),
        };
        return this;
    }
}

const enc = (s) => new Uint8Array(Buffer.from(s, 'utf8'));
const raw = (...b) => Uint8Array.from(b);
const TXID = 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f';
const EVENT = '{"EventSubject":"US-42049-49888-1213666-R-N","System":"Property ' +
    'Listing Service","SubjectType":"Property","Entity":"Broker","Event":"Listing",' +
    '"State":"Recorded","Recorder":"ae1643","Application":"87478-a43"}';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\u00fc\n-----END CERTIFICATE-----\n';

const fillTimestamp = (t) => t.int64('seconds', 1767225600n).int32('nanos', 987654321);

const fillIdentity = (b) => b.string('mspid', 'BrokerageMSP-\u00fc')
    .bytes('id_bytes', enc(CERT));

function fillChannelHeader(b) {
    b.int32('type', 3) // ENDORSER_TRANSACTION
        .int32('version', -7)
        .message('timestamp', 'google.protobuf.Timestamp', fillTimestamp)
        .string('channel_id', 'reso-events-\u00e9\u20ac')
        .string('tx_id', TXID)
        .uint64('epoch', 2n ** 63n + 2n ** 40n)
        .packed('extension', 'protos.ChaincodeHeaderExtension', (e) => e.message(
            'chaincode_id', 'protos.ChaincodeID', (id) => id.string('path', 'p\u00e5th')
                .string('name', 'reso').string('version', '1.0-\u03b2')))
        .bytes('tls_cert_hash', raw(0x00, 0xff, 0x10, 0x80, 0x7f, 0x00));
}

function fillSignatureHeader(b) {
    b.packed('creator', 'msp.SerializedIdentity', fillIdentity)
        .bytes('nonce', raw(0xff, 0x00, 0x01, 0xfe, 0x02, 0xfd, 0x00, 0xff));
}

function fillHeader(b) {
    b.packed('channel_header', 'common.ChannelHeader', fillChannelHeader)
        .packed('signature_header', 'common.SignatureHeader', fillSignatureHeader);
}

function fillInput(b) {
    b.bytesList('args', [enc('RecordEvent'), enc(EVENT), raw(0x00, 0xff)])
        .bytesMap('decorations', [['d\u00fcck', raw(0x00, 0x01)], ['z\u00e9ta', raw(0xff, 0x00)]])
        .bool('is_init', true);
}

function fillProposal(b) {
    b.packed('header', 'common.Header', fillHeader)
        .packed('payload', 'protos.ChaincodeProposalPayload', (p) => p
            .packed('input', 'protos.ChaincodeInvocationSpec', (s) => s.message(
                'chaincode_spec', 'protos.ChaincodeSpec', (cs) => cs
                    .enumv('type', 2) // NODE
                    .message('chaincode_id', 'protos.ChaincodeID', (id) => id
                        .string('name', 'reso').string('version', 'v\u00e9'))
                    .message('input', 'protos.ChaincodeInput', fillInput)
                    .int32('timeout', -30)))
            .bytesMap('TransientMap', [['k\u00e9y-1', raw(0x00, 0xff, 0x01)],
                ['k\u00e9y-2', raw(0xff, 0x00, 0x02)]]))
        .bytes('extension', raw(0x00, 0xff, 0x03));
}

function fillSignedProposal(b) {
    b.packed('proposal_bytes', 'protos.Proposal', fillProposal)
        .bytes('signature', raw(0x30, 0x45, 0x02, 0x21, 0x00, 0xff, 0x9a, 0x00));
}

const ENCODED = [
    ['common.ChannelHeader', fillChannelHeader],
    ['common.Header', fillHeader],
    ['protos.Proposal', fillProposal],
    ['protos.SignedProposal', fillSignedProposal],
    ['protos.ChaincodeMessage', (b) => b
        .enumv('type', 5) // TRANSACTION
        .message('timestamp', 'google.protobuf.Timestamp', fillTimestamp)
        .packed('payload', 'protos.ChaincodeInput', fillInput)
        .string('txid', TXID)
        .message('proposal', 'protos.SignedProposal', fillSignedProposal)
        .message('chaincode_event', 'protos.ChaincodeEvent', (e) => e
            .string('chaincode_id', 'reso').string('tx_id', TXID)
            .string('event_name', 'RecordEvent-\u00fc').bytes('payload', enc(EVENT)))
        .string('channel_id', 'reso-events-\u00e9\u20ac')],
    ['gateway.EndorseRequest', (b) => b
        .string('transaction_id', TXID)
        .string('channel_id', 'reso-events-\u00e9\u20ac')
        .message('proposed_transaction', 'protos.SignedProposal', fillSignedProposal)
        .strings('endorsing_organizations', ['BrokerageMSP', 'MLSMSP-\u00fc'])],
    ['gateway.ChaincodeEventsRequest', (b) => b
        .string('channel_id', 'reso-events')
        .string('chaincode_id', 'reso-\u00fc')
        .packed('identity', 'msp.SerializedIdentity', fillIdentity)
        .message('start_position', 'orderer.SeekPosition', (p) => p.message(
            'specified', 'orderer.SeekSpecified', (s) => s.uint64('number', 2n ** 60n + 2n ** 12n)))
        .string('after_transaction_id', TXID)],
    ['gateway.CommitStatusResponse', (b) => b
        .enumv('result', 11) // MVCC_READ_CONFLICT
        .uint64('block_number', 2n ** 62n + 2n ** 20n)],
    ['common.Envelope', (b) => b
        .packed('payload', 'common.Payload', (p) => p
            .message('header', 'common.Header', fillHeader)
            .packed('data', 'protos.Transaction', (t) => t.messages('actions',
                'protos.TransactionAction', [
                    (a) => a.packed('header', 'common.SignatureHeader', fillSignatureHeader)
                        .bytes('payload', raw(0x00, 0xff, 0x04)),
                    (a) => a.bytes('header', raw(0xff, 0x00, 0x05))
                        .bytes('payload', raw(0x00, 0xff, 0x06)),
                ])))
        .bytes('signature', raw(0x30, 0x44, 0x00, 0xff))],
    ['google.rpc.Status', (b) => {
        b.int32('code', 10).string('message', 'failed to endorse \u00e9');
        const detail = new Builder('gateway.ErrorDetail');
        detail.string('address', 'peer0.brokerage.reso.example:7051')
            .string('msp_id', 'BrokerageMSP').string('message', 'chaincode response 400 \u00fc');
        const any = new Any();
        any.pack(detail.obj.serializeBinary(), 'gateway.ErrorDetail');
        b.obj.setDetailsList([any]);
        b.json.fields.details = {
            t: 'repeated',
            items: [{
                t: 'message',
                type: 'google.protobuf.Any',
                fields: {
                    type_url: { t: 'string', v: any.getTypeUrl() },
                    value: { t: 'bytes', hex: hex(any.getValue_asU8()), packed: detail.json },
                },
            }],
        };
    }],
];

function cmdEncode(dir) {
    fs.mkdirSync(dir, { recursive: true });
    const instances = [];
    for (const [type, fill] of ENCODED) {
        const b = new Builder(type);
        fill(b);
        const file = `${type}.bin`;
        fs.writeFileSync(path.join(dir, file), b.obj.serializeBinary());
        instances.push({ name: type, file, message: b.json });
    }
    const manifest = {
        version: 1,
        generator: `tests/interop/proto-wire.js (@hyperledger/fabric-protos ${
            require('@hyperledger/fabric-protos/package.json').version})`,
        instances,
    };
    fs.writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    process.stdout.write(`proto-wire: wrote ${instances.length} messages encoded by ` +
        `@hyperledger/fabric-protos to ${dir}\n`);
    return 0;
}

// ---- main -----------------------------------------------------------------

function main(argv) {
    const usage = 'usage: proto-wire.js decode DIR [--proto-dir PROTO] | encode DIR';
    const [cmd, dir, ...rest] = argv;
    if (!dir) die(2, usage);
    if (cmd === 'encode' && rest.length === 0) return cmdEncode(dir);
    if (cmd === 'decode') {
        if (rest.length === 0) return cmdDecode(dir, null);
        if (rest.length === 2 && rest[0] === '--proto-dir') return cmdDecode(dir, rest[1]);
    }
    return die(2, usage);
}

process.exitCode = main(process.argv.slice(2));
