#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// network-smoke.js: end-to-end checks of a running reso-ledger network with
// the official Fabric Node SDK only (helpers from gateway-client.js). It
// records an event through one org, reads it back through the two others,
// streams its chaincode event, and checks the chaincode's client errors.
//
//   node network-smoke.js --env FILE [--resoctl PATH]
//
// FILE is `resoctl network env --json` output (`--env -` or no --env: read
// it from stdin). With --resoctl, two more checks cross the C client
// (`resoctl event get|record`) with the Node SDK in both directions. Prints one "ok"/"not ok"
// line per check and ends with "N passed, N failed"; exit 0 when all pass.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const {
    readEnv, findOrg, openGateway, orgRecorder, chaincodeError, exampleEvent, ClientError,
} = require('./gateway-client.js');

const utf8 = new TextDecoder();
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

// The 4xx chaincode error of a failed call, as {status, body}.
async function expectChaincodeError(promise) {
    try {
        await promise;
    } catch (err) {
        const cc = chaincodeError(err);
        assert.ok(cc, `expected a chaincode error, got: ${err.message}`);
        return { status: cc.status, body: JSON.parse(cc.message) };
    }
    throw new assert.AssertionError({ message: 'the call succeeded; expected a chaincode error' });
}

async function main(argv) {
    const opts = {};
    for (let i = 0; i < argv.length; i += 2) {
        if (!['--env', '--resoctl'].includes(argv[i]) || i + 1 >= argv.length) {
            throw new ClientError('usage: network-smoke.js [--env FILE|-] [--resoctl PATH]');
        }
        opts[argv[i].slice(2)] = argv[i + 1];
    }
    const envPath = opts.env;
    if (opts.resoctl && (!envPath || envPath === '-')) {
        throw new ClientError('--resoctl needs --env FILE (resoctl reads the same file)');
    }
    // resoctl with the same network, as org ORG; its stdout parsed as JSON.
    const resoctl = (org, args, input) => JSON.parse(execFileSync(opts.resoctl,
        [...args, '--org', org, '--env', envPath],
        { input, timeout: 120000, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] }));
    const env = await readEnv(envPath);
    const names = Object.keys(env.orgs);
    if (names.length < 3) throw new ClientError(`need 3 orgs in the env, have ${names.length}`);
    const [writer, reader, historian] = await Promise.all(
        names.slice(0, 3).map((n) => openGateway(env, findOrg(env, n), 'client')));

    const subject = `US-42049-49888-S${crypto.randomBytes(4).toString('hex')}-R-N`;
    // Recorder binding is strict: the writer records with its own org's
    // Recorder; the C client, recording as the third org, with that one's.
    const newEvent = (subj) => exampleEvent(subj, orgRecorder(writer));
    const state = {};
    const checks = [
        ['record_event_returns_the_stored_event', async () => {
            const input = newEvent(subject);
            const tx = await writer.contract.submitAsync('RecordEvent',
                { arguments: [JSON.stringify(input)] });
            const status = await tx.getStatus();
            assert.equal(status.successful, true, `commit code ${status.code}`);
            const stored = JSON.parse(utf8.decode(tx.getResult()));
            for (const [k, v] of Object.entries(input)) assert.equal(stored[k], v, k);
            assert.match(stored.TransactionId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
            assert.match(stored.Timestamp, IMF_FIXDATE);
            assert.equal(stored.Version, '1.3');
            Object.assign(state, { stored, block: status.blockNumber, txId: status.transactionId });
        }],
        ['get_event_through_another_org', async () => {
            const got = await reader.contract.evaluateTransaction('GetEvent', state.stored.TransactionId);
            assert.deepEqual(JSON.parse(utf8.decode(got)), state.stored);
        }],
        ['subject_history_through_a_third_org', async () => {
            const second = await writer.contract.submitTransaction('RecordEvent',
                JSON.stringify({ ...newEvent(subject), State: 'Changed' }));
            state.second = JSON.parse(utf8.decode(second));
            const got = JSON.parse(utf8.decode(await historian.contract.evaluateTransaction(
                'GetSubjectHistory', subject)));
            assert.ok(Array.isArray(got), 'history is a JSON array');
            assert.equal(got.length, 2);
            const ids = got.map((e) => e.TransactionId).sort();
            assert.deepEqual(ids, [state.stored.TransactionId, state.second.TransactionId].sort());
            assert.deepEqual(got.find((e) => e.TransactionId === state.stored.TransactionId),
                state.stored);
        }],
        ['chaincode_event_streams_from_its_block', async () => {
            const events = await reader.network.getChaincodeEvents(env.chaincode,
                { startBlock: state.block });
            const timer = setTimeout(() => events.close(), 30000);
            let found;
            try {
                for await (const ev of events) {
                    assert.ok(ev.blockNumber >= state.block, 'no event before the start block');
                    if (ev.transactionId === state.txId) {
                        found = ev;
                        break;
                    }
                }
            } catch (e) {
                // close() by the timer ends the stream with CANCELLED.
            } finally {
                clearTimeout(timer);
                events.close();
            }
            assert.ok(found, `no chaincode event of ${state.txId} within 30 s`);
            assert.equal(found.blockNumber, state.block);
            assert.equal(found.chaincodeName, env.chaincode);
            assert.ok(found.eventName.length > 0, 'event name is set');
            assert.deepEqual(JSON.parse(utf8.decode(found.payload)), state.stored);
        }],
        ['invalid_event_is_a_400_with_the_field', async () => {
            const bad = newEvent(subject);
            delete bad.System;
            const { status, body } = await expectChaincodeError(
                writer.contract.submitTransaction('RecordEvent', JSON.stringify(bad)));
            assert.equal(status, 400);
            assert.equal(body.error.code, 'MISSING_FIELD');
            assert.equal(body.error.field, 'System');
            assert.equal(typeof body.error.message, 'string');
        }],
        ['another_orgs_recorder_is_a_403_and_writes_nothing', async () => {
            const foreign = { ...newEvent(subject), Recorder: orgRecorder(reader) };
            assert.notEqual(foreign.Recorder, orgRecorder(writer));
            const { status, body } = await expectChaincodeError(
                writer.contract.submitTransaction('RecordEvent', JSON.stringify(foreign)));
            assert.equal(status, 403);
            assert.equal(body.error.code, 'RECORDER_NOT_AUTHORIZED');
            assert.equal(body.error.field, 'Recorder');
            assert.ok(body.error.message.includes(foreign.Recorder), body.error.message);
            const got = JSON.parse(utf8.decode(await historian.contract.evaluateTransaction(
                'GetSubjectHistory', subject)));
            assert.equal(got.length, 2, 'the subject still has its two events');
        }],
        ['unknown_transaction_id_is_a_client_error', async () => {
            const { status, body } = await expectChaincodeError(reader.contract.evaluateTransaction(
                'GetEvent', crypto.randomUUID()));
            assert.ok(status >= 400 && status < 500, `status ${status}`);
            assert.equal(typeof body.error.code, 'string');
        }],
    ];
    if (opts.resoctl) {
        checks.push(['c_client_reads_what_node_recorded', async () => {
            assert.deepEqual(resoctl(names[1], ['event', 'get', state.stored.TransactionId]),
                state.stored);
        }], ['node_reads_what_c_client_recorded', async () => {
            const input = exampleEvent(`${subject}-C`, orgRecorder(historian));
            const stored = resoctl(names[2], ['event', 'record', '-'], JSON.stringify(input));
            for (const [k, v] of Object.entries(input)) assert.equal(stored[k], v, k);
            const got = await reader.contract.evaluateTransaction('GetEvent', stored.TransactionId);
            assert.deepEqual(JSON.parse(utf8.decode(got)), stored);
        }]);
    }

    let passed = 0;
    let failed = 0;
    try {
        for (const [i, [name, fn]] of checks.entries()) {
            try {
                await fn();
                passed++;
                process.stdout.write(`ok ${i + 1} - ${name}\n`);
            } catch (e) {
                failed++;
                process.stdout.write(`not ok ${i + 1} - ${name}\n`);
                const details = (e.details || []).map((d) => `\n    ${d.address}: ${d.message}`);
                process.stderr.write(`  ${name}: ${e.message}${details.join('')}\n`);
            }
        }
    } finally {
        for (const c of [writer, reader, historian]) c.close();
    }
    process.stdout.write(`${passed} passed, ${failed} failed\n`);
    return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => {
        process.stderr.write(`network-smoke: ${err.message}\n`);
        process.exitCode = err instanceof ClientError ? 2 : 1;
    },
);
