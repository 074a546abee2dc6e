// SPDX-License-Identifier: Apache-2.0
//
// Reference CIDs from IPFS's own JavaScript importer (ipfs-unixfs-importer)
// for the off-chain document addresses reso-gateway computes in C
// (gateway/src/cid.c). Each argument is a file size; the content of a file
// of size n is the deterministic xorshift32 stream seeded with n that
// tests/interop/cid_print.c generates too. Prints one "SIZE CID" line per
// argument. The importer runs with the settings of `ipfs add` (profile
// unixfs-v0-2015: CIDv0, UnixFS file leaves, 256 KiB chunks, balanced
// layout of at most 174 links per node).
import { importBytes } from 'ipfs-unixfs-importer';
import { MemoryBlockstore } from 'blockstore-core/memory';

// The same generator as cid_print.c: state seeded with size + 1 so that
// size 0 does not start in xorshift's fixed point.
function content(size) {
  const buf = new Uint8Array(size);
  let x = (size + 1) >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

async function main() {
  const sizes = process.argv.slice(2).map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new Error(`bad size ${s}`);
    }
    return n;
  });
  for (const n of sizes) {
    // A fresh store per file keeps memory bounded for the large ones.
    const store = new MemoryBlockstore();
    const entry = await importBytes(content(n), store,
                                    { profile: 'unixfs-v0-2015' });
    process.stdout.write(`${n} ${entry.cid.toString()}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`ipfs-cid: ${e.stack || e}\n`);
  process.exit(1);
});
