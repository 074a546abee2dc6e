#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// gateway-client.js: a small command-line client of the reso chaincode that
// uses only the official Fabric Node SDK (@hyperledger/fabric-gateway over
// @grpc/grpc-js). It is the independent reference the C gateway and
// chaincode are checked against: what it submits must be stored, what the C
// side stores must read back here, and the events must stream here.
//
// The network comes from `resoctl network env --json` (docs: layout.md),
// read from --env FILE, from --env - (stdin), or from stdin when it is not a
// terminal. See README.md in this directory for examples.
//
//   submit   ORG FUNCTION [ARG...]  e.g. submit Brokerage RecordEvent '{...}'
//   evaluate ORG FUNCTION [ARG...]  e.g. evaluate MLS GetEvent <TransactionId>
//                                        evaluate MLS GetSubjectHistory <EventSubject>
//   events   ORG --from-block N --count K [--timeout SECONDS]
//   bench-submit ORG --count N --concurrency C
//
// Common options: --env FILE|-, --as client|admin (default client).
//
// Output: submit/evaluate print the chaincode's result (UTF-8) on stdout;
// events print one JSON line per event {block, txId, eventName, payload};
// bench-submit prints one JSON line {count, seconds, tps, p50_ms, p99_ms,
// rss_mb}. Exit status 0 on success, 1 on failure, 2 on bad usage. On a
// failure the gateway error details go to stderr; when the chaincode
// answered status 4xx, its message (the JSON {"error":{...}}) is printed on
// stdout as one line, so a test can parse it.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const EXIT_FAIL = 1;
const EXIT_USAGE = 2;

const USAGE = `usage: gateway-client.js [--env FILE|-] [--as client|admin] COMMAND ORG ...
  submit ORG FUNCTION [ARG...]        submit a transaction, print its result
  evaluate ORG FUNCTION [ARG...]      evaluate (query), print the result
  events ORG --from-block N --count K [--timeout SECONDS]
                                      print K chaincode events from block N
  bench-submit ORG --count N --concurrency C
                                      N RecordEvent submits, C in flight
ORG is an org name from the env JSON (Brokerage, Association, MLS) or its MSP id.
The env JSON is the output of 'resoctl network env --json'.`;

class UsageError extends Error {}
// An expected failure (bad network env, too few events): no stack trace.
class ClientError extends Error {}

let grpc;
let gw;
try {
    grpc = require('@grpc/grpc-js');
    gw = require('@hyperledger/fabric-gateway');
} catch (e) {
    process.stderr.write(`gateway-client: cannot load the Fabric Node SDK (${e.message}); ` +
        'run scripts/setup.sh\n');
    process.exit(EXIT_USAGE);
}

// ---- Command line ---------------------------------------------------------

// Splits argv into {global options, command, org, positional, options}.
function parseArgs(argv) {
    const opts = {};
    const pos = [];
    const valued = new Set(['--env', '--as', '--from-block', '--count', '--timeout',
        '--concurrency']);
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '-h' || a === '--help') {
            opts.help = true;
        } else if (a === '--') {
            pos.push(...argv.slice(i + 1));
            break;
        } else if (valued.has(a)) {
            if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
            opts[a.slice(2)] = argv[++i];
        } else if (a.startsWith('--') && pos.length < 2) {
            throw new UsageError(`unknown option ${a}`);
        } else {
            // Past COMMAND ORG, anything (even "--x") is a chaincode argument.
            pos.push(a);
        }
    }
    const [command, org, ...rest] = pos;
    return { opts, command, org, rest };
}

function intOption(opts, name, min, fallback) {
    const raw = opts[name];
    if (raw === undefined) {
        if (fallback !== undefined) return fallback;
        throw new UsageError(`--${name} is required`);
    }
    if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
        throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
    }
    return Number(raw);
}

// ---- Network description --------------------------------------------------

async function readStdin() {
    // Async: a pipe from a still-running producer is non-blocking.
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
}

async function readEnv(where) {
    let text;
    let from;
    if (where === undefined && process.stdin.isTTY) {
        throw new UsageError('no network: give --env FILE (resoctl network env --json > FILE) ' +
            'or pipe it on stdin');
    }
    if (where === undefined || where === '-') {
        from = 'stdin';
        text = await readStdin();
    } else {
        from = where;
        text = fs.readFileSync(where, 'utf8');
    }
    let env;
    try {
        env = JSON.parse(text);
    } catch (e) {
        throw new ClientError(`the network env from ${from} is not JSON: ${e.message}`);
    }
    for (const key of ['channel', 'chaincode', 'orgs']) {
        if (!env[key]) throw new ClientError(`the network env from ${from} has no "${key}"`);
    }
    return env;
}

function need(obj, pathText) {
    let v = obj;
    for (const k of pathText.split('.')) v = v === undefined || v === null ? undefined : v[k];
    if (v === undefined || v === null || v === '') {
        throw new ClientError(`the network env has no ${pathText}`);
    }
    return v;
}

function findOrg(env, name) {
    if (!name) throw new UsageError('ORG is required');
    for (const [orgName, org] of Object.entries(env.orgs)) {
        const want = name.toLowerCase();
        if (orgName.toLowerCase() === want || String(org.msp_id).toLowerCase() === want) {
            return { name: orgName, org };
        }
    }
    throw new UsageError(`no org "${name}" in the network env (have: ` +
        `${Object.keys(env.orgs).join(', ')})`);
}

// ---- Connection -----------------------------------------------------------

async function openGateway(env, orgRef, as) {
    const { name, org } = orgRef;
    if (as !== 'client' && as !== 'admin') {
        throw new UsageError(`--as must be client or admin, got "${as}"`);
    }
    const peerAddress = need(org, 'peer.address');
    const tlsCa = fs.readFileSync(need(org, 'peer.tls_ca'));
    const override = need(org, 'peer.host_override');
    const certPem = fs.readFileSync(need(org, `${as}.cert`));
    const keyPem = fs.readFileSync(need(org, `${as}.key`));

    // The peer's TLS certificate names its host, not 127.0.0.1.
    const client = new grpc.Client(peerAddress, grpc.credentials.createSsl(tlsCa), {
        'grpc.ssl_target_name_override': override,
        'grpc.default_authority': override,
    });
    const deadline = (seconds) => () => ({ deadline: Date.now() + seconds * 1000 });
    const gateway = gw.connect({
        client,
        identity: { mspId: need(org, 'msp_id'), credentials: certPem },
        signer: gw.signers.newPrivateKeySigner(crypto.createPrivateKey(keyPem)),
        hash: gw.hash.sha256,
        evaluateOptions: deadline(10),
        endorseOptions: deadline(30),
        submitOptions: deadline(10),
        commitStatusOptions: deadline(120),
    });
    const network = gateway.getNetwork(env.channel);
    return {
        name,
        org,
        network,
        contract: network.getContract(env.chaincode),
        close() {
            gateway.close();
            client.close();
        },
    };
}

// ---- Errors ---------------------------------------------------------------

// "chaincode response 400, {...}" as the gateway reports a chaincode error.
function chaincodeError(err) {
    const texts = [err.message, ...(err.details || []).map((d) => d.message)];
    for (const t of texts) {
        const m = /chaincode response (\d+), ([\s\S]*)$/.exec(t || '');
        if (m) return { status: Number(m[1]), message: m[2].trim() };
    }
    return null;
}

function reportError(err) {
    if (err instanceof UsageError) {
        process.stderr.write(`gateway-client: ${err.message}\n${USAGE}\n`);
        return EXIT_USAGE;
    }
    const cc = chaincodeError(err);
    if (cc && cc.status >= 400 && cc.status < 500) process.stdout.write(`${cc.message}\n`);
    let text = err instanceof ClientError ? `gateway-client: ${err.message}`
        : `gateway-client: ${err.name || 'Error'}: ${err.message}`;
    if (err.transactionId) text += `\n  transaction ${err.transactionId}`;
    if (err instanceof gw.CommitError) {
        text += `\n  validation code ${err.code} (${gw.StatusCode && Object.keys(gw.StatusCode)
            .find((k) => gw.StatusCode[k] === err.code)})`;
    }
    if (typeof err.code === 'number' && err.details !== undefined) {
        text += `\n  gRPC status ${err.code} (${grpc.status[err.code] || '?'})`;
    }
    for (const d of err.details || []) {
        text += `\n  detail: ${d.address} (${d.mspId}): ${d.message}`;
    }
    // Stack traces only for the unexpected (not SDK, env or file errors).
    const expected = err instanceof gw.GatewayError || err instanceof gw.CommitError ||
        err instanceof ClientError || typeof err.code === 'string';
    if (!expected && err.stack) {
        text += `\n${err.stack.split('\n').slice(1, 4).join('\n')}`;
    }
    process.stderr.write(`${text}\n`);
    return EXIT_FAIL;
}

// ---- Commands -------------------------------------------------------------

const utf8 = new TextDecoder();

async function cmdTransaction(conn, kind, fn, args) {
    if (!fn) throw new UsageError(`${kind} needs a FUNCTION`);
    const result = kind === 'submit'
        ? await conn.contract.submitTransaction(fn, ...args)
        : await conn.contract.evaluateTransaction(fn, ...args);
    process.stdout.write(`${utf8.decode(result)}\n`);
}

// A chaincode event payload: parsed JSON when it is JSON, else UTF-8 text.
function payloadValue(bytes) {
    const text = utf8.decode(bytes);
    try {
        return JSON.parse(text);
    } catch (e) {
        return text;
    }
}

async function cmdEvents(env, conn, { from, count, timeout }) {
    const events = await conn.network.getChaincodeEvents(env.chaincode,
        { startBlock: BigInt(from) });
    let seen = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
        timedOut = true;
        events.close();
    }, timeout * 1000);
    try {
        for await (const ev of events) {
            process.stdout.write(`${JSON.stringify({
                block: Number(ev.blockNumber),
                txId: ev.transactionId,
                eventName: ev.eventName,
                payload: payloadValue(ev.payload),
            })}\n`);
            if (++seen >= count) break;
        }
    } catch (e) {
        if (!timedOut) throw e;
    } finally {
        clearTimeout(timer);
        events.close();
    }
    if (seen < count) {
        throw new ClientError(`got ${seen} of ${count} events from block ${from} within ${timeout} s`);
    }
}

// The Recorder registered to the org of conn (`network up` registers one
// per org): Recorder binding is strict, so an org records with its own.
function orgRecorder(conn) {
    return need(conn.org, 'recorder');
}

// The RESO v1.3 example event, with the given EventSubject and Recorder
// (the submitting org's own).
function exampleEvent(subject, recorder) {
    if (typeof recorder !== 'string' || recorder === '') {
        throw new ClientError('exampleEvent needs the submitting org\'s Recorder');
    }
    return {
        EventSubject: subject,
        System: 'Property Listing Service',
        SubjectType: 'Property',
        Entity: 'Broker',
        Event: 'Listing',
        State: 'Recorded',
        Recorder: recorder,
        Application: '87478-a43',
    };
}

// Every bench transaction records a subject of its own.
function benchEvent(run, i, recorder) {
    return JSON.stringify(exampleEvent(`US-42049-49888-${run}-${i}-R-N`, recorder));
}

// Nearest-rank percentile of sorted values.
function percentile(sorted, q) {
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function cmdBench(conn, { count, concurrency }) {
    const run = `B${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
    const recorder = orgRecorder(conn);
    const latencies = [];
    let next = 0;
    let failure = null;

    // Each worker keeps one transaction in flight, from submit to commit.
    const worker = async () => {
        while (failure === null && next < count) {
            const i = next++;
            const t0 = performance.now();
            try {
                const tx = await conn.contract.submitAsync('RecordEvent',
                    { arguments: [benchEvent(run, i, recorder)] });
                const status = await tx.getStatus();
                if (!status.successful) {
                    throw new gw.CommitError({
                        code: status.code,
                        transactionId: status.transactionId,
                        message: `transaction ${status.transactionId} committed invalid`,
                    });
                }
            } catch (e) {
                if (failure === null) failure = e;
                return;
            }
            latencies.push(performance.now() - t0);
        }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    const seconds = (performance.now() - start) / 1000;
    if (failure !== null) {
        process.stderr.write(`gateway-client: bench-submit stopped after ${latencies.length} ` +
            `of ${count} transactions\n`);
        throw failure;
    }
    latencies.sort((a, b) => a - b);
    const round = (v, d) => Number(v.toFixed(d));
    process.stdout.write(`${JSON.stringify({
        count,
        seconds: round(seconds, 3),
        tps: round(count / seconds, 2),
        p50_ms: round(percentile(latencies, 0.5), 1),
        p99_ms: round(percentile(latencies, 0.99), 1),
        // Peak resident memory of this Node client process.
        rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
    })}\n`);
}

async function main(argv) {
    const { opts, command, org, rest } = parseArgs(argv);
    if (opts.help) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }
    const commands = ['submit', 'evaluate', 'events', 'bench-submit'];
    if (!commands.includes(command)) {
        throw new UsageError(command ? `unknown command "${command}"` : 'COMMAND is required');
    }
    if ((command === 'events' || command === 'bench-submit') && rest.length > 0) {
        throw new UsageError(`unexpected argument "${rest[0]}"`);
    }
    if (!org) throw new UsageError('ORG is required');
    // Check the numbers before touching the network.
    let params = null;
    if (command === 'events') {
        params = {
            from: intOption(opts, 'from-block', 0),
            count: intOption(opts, 'count', 1),
            timeout: intOption(opts, 'timeout', 1, 60),
        };
    } else if (command === 'bench-submit') {
        params = {
            count: intOption(opts, 'count', 1),
            concurrency: intOption(opts, 'concurrency', 1),
        };
    } else if (!rest[0]) {
        throw new UsageError(`${command} needs a FUNCTION`);
    }
    const env = await readEnv(opts.env);
    const conn = await openGateway(env, findOrg(env, org), opts.as || 'client');
    try {
        if (command === 'submit' || command === 'evaluate') {
            await cmdTransaction(conn, command, rest[0], rest.slice(1));
        } else if (command === 'events') {
            await cmdEvents(env, conn, params);
        } else {
            await cmdBench(conn, params);
        }
    } finally {
        conn.close();
    }
    return 0;
}

// network-smoke.js reuses the connection and env helpers.
module.exports = {
    readEnv, findOrg, openGateway, orgRecorder, chaincodeError, exampleEvent, ClientError,
};

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => { process.exitCode = code; },
        (err) => { process.exitCode = reportError(err); },
    );
}
