import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MsrpParser, type MsrpFrame, type MsrpRequest, type MsrpResponse, parseMsrpUri, serializeRequest, serializeResponse,
  parseByteRange, formatByteRange, parseStatus, type MsrpUri, Reassembler, type ReassemblyLimits, chunkMessage, type ChunkSource,
  mayRespond, responseTo, requestProblem, acceptsType, successReport, type OutgoingRequest,
} from '../../src/msrp/index.js';
import { error, value } from '../support/result.js';
import { prng } from '../support/prng.js';

/** Wire text from RFC figure lines: CRLF line ends, a final CRLF after the end-line. */
const wire = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;
const uri = (s: string): MsrpUri => value(parseMsrpUri(s));

function parseAll(input: string | Buffer, limits = {}): { frames: MsrpFrame[]; error?: string } {
  const p = new MsrpParser(limits);
  return p.push(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
}
function one(input: string | Buffer): MsrpFrame {
  const r = parseAll(input);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.frames.length, 1);
  return r.frames[0] as MsrpFrame;
}
function req(input: string | Buffer): MsrpRequest {
  const f = one(input);
  assert.equal(f.kind, 'request');
  return f as MsrpRequest;
}
function res(input: string | Buffer): MsrpResponse {
  const f = one(input);
  assert.equal(f.kind, 'response');
  return f as MsrpResponse;
}
function framingError(input: string | Buffer, re: RegExp, limits = {}): void {
  const r = parseAll(input, limits);
  assert.ok(r.error !== undefined, `expected a framing error matching ${re}, got ${r.frames.length} frame(s)`);
  assert.match(r.error, re);
}


// ---------------------------------------------------------------------------
// RFC 4975 figures (the RFC indents them; the wire has no indentation).

const ALICE_7654 = 'msrp://atlanta.example.com:7654/jshA7weztas;tcp';
const BOB_12763 = 'msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp';

/** RFC 4975 §4, Figure 2 (its Byte-Range counts 25 for a 23-byte body; kept as printed). */
const FIG2_SEND = wire('MSRP a786hjs2 SEND', `To-Path: ${BOB_12763}`, `From-Path: ${ALICE_7654}`, 'Message-ID: 87652491',
  'Byte-Range: 1-25/25', 'Content-Type: text/plain', '', 'Hey Bob, are you there?', '-------a786hjs2$');
const FIG2_200 = wire('MSRP a786hjs2 200 OK', `To-Path: ${ALICE_7654}`, `From-Path: ${BOB_12763}`, '-------a786hjs2$');

/** RFC 4975 §5.1, Figure 3. The figure omits To-Path/From-Path, which §9 requires; they are added. */
const PATHS = [`To-Path: ${BOB_12763}`, `From-Path: ${ALICE_7654}`];
const FIG3_A = wire('MSRP dkei38sd SEND', ...PATHS, 'Message-ID: 4564dpWd', 'Byte-Range: 1-*/8', 'Content-Type: text/plain', '', 'abcd', '-------dkei38sd+');
const FIG3_B = wire('MSRP dkei38ia SEND', ...PATHS, 'Message-ID: 4564dpWd', 'Byte-Range: 5-8/8', 'Content-Type: text/plain', '', 'EFGH', '-------dkei38ia$');

const ALICEPC = 'msrp://alicepc.example.com:7777/iau39soe2843z;tcp';
const BOB_8888 = 'msrp://bob.example.com:8888/9di4eae923wzd;tcp';
/** RFC 4975 §11.1 steps 4–7. */
const S11_1 = [
  wire('MSRP d93kswow SEND', `To-Path: ${BOB_8888}`, `From-Path: ${ALICEPC}`, 'Message-ID: 12339sdqwer', 'Byte-Range: 1-16/16', 'Content-Type: text/plain', '', "Hi, I'm Alice!", '-------d93kswow$'),
  wire('MSRP d93kswow 200 OK', `To-Path: ${ALICEPC}`, `From-Path: ${BOB_8888}`, '-------d93kswow$'),
  wire('MSRP dkei38sd SEND', `To-Path: ${ALICEPC}`, `From-Path: ${BOB_8888}`, 'Message-ID: 456s9wlk3', 'Byte-Range: 1-21/21', 'Content-Type: text/plain', '', 'Hi, Alice!  I\'m Bob!', '-------dkei38sd$'),
  wire('MSRP dkei38sd 200 OK', `To-Path: ${BOB_8888}`, `From-Path: ${ALICEPC}`, '-------dkei38sd$'),
];
/** RFC 4975 §11.2, Figure 13 (the figure's "_http" typographic underscores removed). */
const XHTML_BODY = ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE html', 'PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"',
  '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">', '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
  '  <head>', '    <title>FY2005 Results</title>', '</head>', '  <body>', '   <p>See the results at <a',
  'href="http://example.org/">example.org</a>.</p>', '  </body>', '</html>'].join('\r\n');
const FIG13 = wire('MSRP dsdfoe38sd SEND', 'To-Path: msrp://alice.example.com:7777/iau39soe2843z;tcp', `From-Path: ${BOB_8888}`,
  'Message-ID: 456so39s', 'Byte-Range: 1-374/374', 'Content-Type: application/xhtml+xml', '', XHTML_BODY, '-------dsdfoe38sd$');
/** RFC 4975 §11.4, Figures 14 and 15. */
const CPIM_BODY = 'To: Bob <sip:bob@example.com>\r\nFrom: Alice <sip:alice@example.com>\r\nDateTime: 2006-05-15T15:02:31-03:00\r\nContent-Type: text/plain\r\n\r\nABCD';
const BOBPC = 'msrp://bobpc.example.com:8888/9di4eae923wzd;tcp';
const ALICE_7654PC = 'msrp://alicepc.example.com:7654/iau39soe2843z;tcp';
const FIG14 = wire('MSRP d93kswow SEND', `To-Path: ${BOBPC}`, `From-Path: ${ALICE_7654PC}`, 'Message-ID: 12339sdqwer', 'Byte-Range: 1-137/148',
  'Content-Type: message/cpim', '', CPIM_BODY, '-------d93kswow+');
const FIG15 = wire('MSRP op2nc9a SEND', `To-Path: ${BOBPC}`, `From-Path: ${ALICE_7654PC}`, 'Message-ID: 12339sdqwer', 'Byte-Range: 138-148/148',
  'Content-Type: message/cpim', '', '1234567890', '-------op2nc9a$');
/** RFC 4975 §11.5. */
const S11_5 = wire('MSRP d93kswow SEND', 'To-Path: msrp://alicepc.example.com:8888/9di4eae923wzd;tcp', 'From-Path: msrp://example.com:7777/iau39soe2843z;tcp',
  'Message-ID: 12339sdqwer', 'Byte-Range: 1-38/38', 'Failure-Report: no', 'Success-Report: no', 'Content-Type: text/plain', '',
  'This conference will end in 5 minutes', '-------d93kswow$');
/** RFC 4975 §11.6, Figures 16 and 17. */
const HTML_BODY = '<html><body>\r\n<p>Here is that important link...\r\n<a href="http://www.example.com/foobar">foobar</a>\r\n</p>\r\n</body></html>';
const FIG16 = wire('MSRP d93kswow SEND', `To-Path: ${BOB_8888}`, `From-Path: ${ALICEPC}`, 'Message-ID: 12339sdqwer', 'Byte-Range: 1-106/106',
  'Success-Report: yes', 'Failure-Report: no', 'Content-Type: text/html', '', HTML_BODY, '-------d93kswow$');
const FIG17 = wire('MSRP dkei38sd REPORT', `To-Path: ${ALICEPC}`, `From-Path: ${BOB_8888}`, 'Message-ID: 12339sdqwer', 'Byte-Range: 1-106/106',
  'Status: 000 200 OK', '-------dkei38sd$');

const ALL_VECTORS = [FIG2_SEND, FIG2_200, FIG3_A, FIG3_B, ...S11_1, FIG13, FIG14, FIG15, S11_5, FIG16, FIG17];

describe('MSRP parser: RFC 4975 examples', () => {
  test('Figure 2: SEND and its 200 OK', () => {
    const r = req(FIG2_SEND);
    assert.equal(r.tid, 'a786hjs2');
    assert.equal(r.method, 'SEND');
    assert.deepEqual(r.toPath, [uri(BOB_12763)]);
    assert.deepEqual(r.fromPath, [uri(ALICE_7654)]);
    assert.equal(r.messageId, '87652491');
    assert.deepEqual(r.byteRange, { start: 1, end: 25, total: 25 });
    assert.equal(r.contentType, 'text/plain');
    assert.equal(r.body?.toString(), 'Hey Bob, are you there?');
    assert.equal(r.flag, '$');
    assert.equal(r.invalid, undefined);
    assert.equal(r.failureReport, undefined);
    const ok200 = res(FIG2_200);
    assert.equal(ok200.code, 200);
    assert.equal(ok200.comment, 'OK');
    assert.equal(ok200.tid, 'a786hjs2');
  });

  test('Figure 3: two chunks, "1-*/8" with "+", then "5-8/8" with "$"', () => {
    const a = req(FIG3_A);
    assert.deepEqual(a.byteRange, { start: 1, end: '*', total: 8 });
    assert.equal(a.flag, '+');
    assert.equal(a.body?.toString(), 'abcd');
    const b = req(FIG3_B);
    assert.deepEqual(b.byteRange, { start: 5, end: 8, total: 8 });
    assert.equal(b.flag, '$');
  });

  test('§11.1 to §11.6: every frame parses, with the expected fields', () => {
    const r = parseAll(ALL_VECTORS.join(''));
    assert.equal(r.error, undefined);
    assert.deepEqual(r.frames.map((f) => f.tid), ['a786hjs2', 'a786hjs2', 'dkei38sd', 'dkei38ia', 'd93kswow', 'd93kswow', 'dkei38sd', 'dkei38sd',
      'dsdfoe38sd', 'd93kswow', 'op2nc9a', 'd93kswow', 'd93kswow', 'dkei38sd']);
    const xhtml = r.frames[8] as MsrpRequest;
    assert.equal(xhtml.body?.toString(), XHTML_BODY);
    assert.equal(xhtml.contentType, 'application/xhtml+xml');
    const sys = r.frames[11] as MsrpRequest;
    assert.equal(sys.failureReport, 'no');
    assert.equal(sys.successReport, 'no');
    const fig16 = r.frames[12] as MsrpRequest;
    assert.equal(fig16.successReport, 'yes');
    assert.equal(fig16.body?.toString(), HTML_BODY);
    const fig17 = r.frames[13] as MsrpRequest;
    assert.equal(fig17.method, 'REPORT');
    assert.deepEqual(fig17.status, { namespace: '000', code: 200, comment: 'OK' });
    assert.equal(fig17.body, null);
    for (const f of r.frames) assert.equal((f as MsrpRequest).invalid, undefined, f.tid);
  });

  test('the serializer reproduces the figures byte for byte', () => {
    const fig2 = req(FIG2_SEND);
    assert.equal(serializeRequest({ ...fig2, body: fig2.body }).toString(), FIG2_SEND);
    const fig2ok = res(FIG2_200);
    assert.equal(serializeResponse({ tid: 'a786hjs2', code: 200, comment: 'OK', toPath: fig2ok.toPath, fromPath: fig2ok.fromPath }).toString(), FIG2_200);
    for (const v of [FIG3_A, FIG3_B, S11_1[0] ?? '', S11_1[2] ?? '', FIG13, FIG14, FIG15, FIG16, FIG17]) {
      const r = req(v);
      assert.equal(serializeRequest({ ...r }).toString(), v);
    }
  });
});

describe('MSRP parser: stream splitting', () => {
  const stream = Buffer.from(ALL_VECTORS.join(''), 'utf8');
  const reference = parseAll(stream).frames;

  test('random splits of a valid stream into 1..N-byte pieces give the same frames', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = prng(seed);
      const maxPiece = [1, 2, 3, 7, 16, 64, 300, 5000][seed % 8] ?? 1;
      const p = new MsrpParser();
      const frames: MsrpFrame[] = [];
      for (let i = 0; i < stream.length;) {
        const n = 1 + Math.floor(rnd() * maxPiece);
        const r = p.push(stream.subarray(i, i + n));
        assert.equal(r.error, undefined, `seed ${seed}: ${r.error}`);
        frames.push(...r.frames);
        i += n;
      }
      assert.deepEqual(frames, reference, `seed ${seed}`);
      assert.equal(p.buffered, 0);
      assert.equal(p.end(), undefined);
    }
  });

  test('every two-piece split of a frame (the end-line cut at every position) gives the frame', () => {
    const frame = Buffer.from(FIG3_A);
    const expected = req(FIG3_A);
    for (let cut = 0; cut <= frame.length; cut++) {
      const p = new MsrpParser();
      const a = p.push(frame.subarray(0, cut));
      const b = p.push(frame.subarray(cut));
      assert.deepEqual([...a.frames, ...b.frames], [expected], `cut at ${cut}`);
    }
  });

  test('a binary body with every byte value, CRLFs and other end-lines round-trips', () => {
    const body = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.from('\r\n-------other123$\r\n\r\n-------abcd\r\n-------abcdX$\r\n-------abcde$\r\n------abcd$\r\n', 'latin1'),
      Buffer.from([0xff, 0xfe, 0x0d]),
    ]);
    // Built by hand: the serializer refuses any "-------abcd" in the body, a stricter rule than the parser's.
    const bytes = Buffer.concat([
      Buffer.from(wire('MSRP abcd SEND', ...PATHS, 'Message-ID: m123', `Byte-Range: 1-${body.length}/${body.length}`, 'Content-Type: application/octet-stream', '')),
      body,
      Buffer.from('\r\n-------abcd$\r\n'),
    ]);
    for (let piece = 1; piece <= 17; piece++) {
      const p = new MsrpParser();
      const frames: MsrpFrame[] = [];
      for (let i = 0; i < bytes.length; i += piece) frames.push(...p.push(bytes.subarray(i, i + piece)).frames);
      assert.equal(frames.length, 1, `piece ${piece}`);
      assert.deepEqual((frames[0] as MsrpRequest).body, body);
    }
  });

  test('an empty body and a bodiless request are told apart (§7.1)', () => {
    const empty = req(wire('MSRP abcd SEND', ...PATHS, 'Message-ID: m123', 'Byte-Range: 1-0/0', 'Content-Type: text/plain', '', '', '-------abcd$'));
    assert.deepEqual(empty.body, Buffer.alloc(0));
    const bodiless = req(wire('MSRP abcd SEND', ...PATHS, '-------abcd$'));
    assert.equal(bodiless.body, null);
  });
});

describe('MSRP parser: mutation fuzzing', () => {
  test('mutated streams never throw: frames and/or one error, and the error is sticky', () => {
    const stream = Buffer.from(ALL_VECTORS.join(''), 'utf8');
    const rnd = prng(7);
    const interesting = [0x0d, 0x0a, 0x2d, 0x24, 0x2b, 0x23, 0x20, 0x3a, 0x00, 0xff];
    for (let round = 0; round < 400; round++) {
      const bytes = Array.from(stream.subarray(0, 1 + Math.floor(rnd() * stream.length)));
      for (let n = 1 + Math.floor(rnd() * 6); n > 0; n--) {
        const at = Math.floor(rnd() * bytes.length);
        const b = rnd() < 0.5 ? (interesting[Math.floor(rnd() * interesting.length)] ?? 0) : Math.floor(rnd() * 256);
        const op = rnd();
        if (op < 0.4) bytes[at] = b;
        else if (op < 0.7) bytes.splice(at, 0, b);
        else bytes.splice(at, 1);
      }
      const input = Buffer.from(bytes);
      const p = new MsrpParser({ maxHeaderBytes: 2048, maxBodyBytes: 4096 });
      let failed: string | undefined;
      for (let i = 0; i < input.length;) {
        const n = 1 + Math.floor(rnd() * 64);
        const r = p.push(input.subarray(i, i + n));
        if (failed !== undefined) assert.equal(r.error, failed);
        failed = r.error;
        for (const f of r.frames) assert.ok(f.kind === 'request' || f.kind === 'response');
        i += n;
      }
      assert.ok(p.end() === undefined || typeof p.end() === 'string');
    }
  });
});

describe('MSRP parser: framing errors close the stream', () => {
  const START = 'MSRP abcd SEND\r\n';
  test('not MSRP at all is refused before any line end', () => {
    framingError('GET / HTTP/1.1', /not an MSRP frame/);
    framingError('\x16\x03\x01', /not an MSRP frame/);
    framingError('\r\nMSRP abcd SEND\r\n', /not an MSRP frame/);
  });
  test('huge header sections and too many header fields', () => {
    framingError(`${START}To-Path: ${'a'.repeat(20_000)}`, /header section larger/);
    framingError(`${START}To-Path: ${'a'.repeat(20_000)}\r\n`, /header section larger/);
    framingError(`${START}${PATHS.join('\r\n')}\r\n${'X-A: b\r\n'.repeat(100)}`, /more than 64 header fields/);
    framingError(`${START}To-Path: ${'a'.repeat(600)}`, /header section larger than 512/, { maxHeaderBytes: 512 });
  });
  test('a missing end-line: body limit, and end of stream inside a frame', () => {
    const head = wire('MSRP abcd SEND', ...PATHS, 'Message-ID: m123', 'Content-Type: text/plain', '');
    framingError(`${head}${'x'.repeat(2000)}`, /body larger than 1000/, { maxBodyBytes: 1000 });
    const p = new MsrpParser();
    assert.equal(p.push(Buffer.from(`${head}some text`)).error, undefined);
    assert.match(p.end() ?? '', /inside a frame/);
  });
  test('non-SEND bodies are limited to 10240 bytes (§7.1)', () => {
    const head = wire('MSRP abcd REPORT', ...PATHS, 'Message-ID: m123', 'Status: 000 200 OK', 'Content-Type: text/plain', '');
    framingError(`${head}${'x'.repeat(10_300)}`, /body larger than 10240/);
    assert.equal(req(`${head}${'x'.repeat(10_240)}\r\n-------abcd$\r\n`).body?.length, 10_240);
  });
  test('transaction ids outside the ident ABNF', () => {
    for (const tid of ['ab_cd', 'abc', 'a'.repeat(33), '-abcd', 'ab cd', 'abc\u00e9', '']) {
      framingError(wire(`MSRP ${tid} SEND`, ...PATHS, `-------${tid}$`), /transaction id|start line|method|UTF-8/);
    }
    assert.equal(req(wire(`MSRP ${'a'.repeat(32)} SEND`, ...PATHS, `-------${'a'.repeat(32)}$`)).tid.length, 32);
    assert.equal(req(wire('MSRP a.-+%= SEND', ...PATHS, '-------a.-+%=$')).tid, 'a.-+%=');
  });
  test('start-line problems', () => {
    framingError(wire('MSRP abcd send', ...PATHS, '-------abcd$'), /method/);
    framingError(wire('MSRP abcd 20 OK', ...PATHS, '-------abcd$'), /method/);
    framingError(wire('MSRP abcd', ...PATHS, '-------abcd$'), /start line/);
    framingError(wire('MSRP  abcd SEND', ...PATHS, '-------abcd$'), /transaction id/);
    framingError(wire('msrp abcd SEND', ...PATHS, '-------abcd$'), /not an MSRP frame/);
  });
  test('line problems: bare LF, control characters, invalid UTF-8, header syntax', () => {
    framingError('MSRP abcd SEND\nTo-Path: x\n', /bare LF/);
    framingError(`${START}To-Path: a\rb\r\n`, /control character/);
    framingError(`${START}To-Path: a\x00b\r\n`, /control character/);
    framingError(Buffer.concat([Buffer.from(`${START}To-Path: `), Buffer.from([0xc3, 0x28]), Buffer.from('\r\n')]), /UTF-8/);
    framingError(`${START}${PATHS.join('\r\n')}\r\nX-Foo:bar\r\n`, /malformed header line/);
    framingError(`${START}${PATHS.join('\r\n')}\r\n X-Foo: bar\r\n`, /malformed header line/);
    framingError(`${START}${PATHS.join('\r\n')}\r\n1X: bar\r\n`, /malformed header line/);
  });
  test('To-Path and From-Path must come first and be valid', () => {
    framingError(wire('MSRP abcd SEND', `From-Path: ${ALICE_7654}`, `To-Path: ${BOB_12763}`, '-------abcd$'), /must be To-Path/);
    framingError(wire('MSRP abcd SEND', `To-Path: ${BOB_12763}`, 'Message-ID: m123', '-------abcd$'), /must be From-Path/);
    framingError(wire('MSRP abcd SEND', 'To-Path: msrp://h/x', `From-Path: ${ALICE_7654}`, '-------abcd$'), /invalid To-Path/);
    framingError(wire('MSRP abcd SEND', `To-Path: ${BOB_12763}`, '-------abcd$'), /missing To-Path or From-Path/);
    framingError(wire('MSRP abcd SEND', '-------abcd$'), /missing To-Path or From-Path/);
    // Header names are case-insensitive.
    assert.equal(req(wire('MSRP abcd SEND', `to-path: ${BOB_12763}`, `FROM-PATH: ${ALICE_7654}`, '-------abcd$')).tid, 'abcd');
  });
  test('end-line problems', () => {
    const head = wire('MSRP abcd SEND', ...PATHS, 'Message-ID: m123', 'Content-Type: text/plain', '');
    framingError(`${head}text-------abcd$\r\n`, /not preceded by CRLF/);
    framingError(`${head}-------abcd$\r\n`, /not preceded by CRLF/);
    framingError(`${head}text\r\n-------abcd$ \r\n`, /not followed by CRLF/);
    framingError(`${head}text\r\n-------abcd$\nX`, /not followed by CRLF/);
    framingError(`${head}text\r\n-------abcd$\r`, /body larger/, { maxBodyBytes: 2 });
    framingError(wire('MSRP abcd SEND', ...PATHS, '-------abce$'), /end-line does not match/);
    framingError(wire('MSRP abcd SEND', ...PATHS, '-------abcd!'), /end-line does not match/);
    framingError(wire('MSRP abcd SEND', ...PATHS, '-------abcd$$'), /end-line does not match/);
    framingError(wire('MSRP abcd 200 OK', ...PATHS, '-------abcd+'), /flag must be/);
    framingError(wire('MSRP abcd 200 OK', ...PATHS, 'Content-Type: text/plain', '', 'x', '-------abcd$'), /response with a body/);
    // "-------abcd" followed by a non-flag character, or the end-line of a longer tid, is body text.
    const r = req(`${head}a\r\n-------abcdX\r\n-------abcde$\r\nb\r\n-------abcd+\r\n`);
    assert.equal(r.body?.toString(), 'a\r\n-------abcdX\r\n-------abcde$\r\nb');
    assert.equal(r.flag, '+');
  });
  test('a failed parser stays failed and frames before the error are kept', () => {
    const p = new MsrpParser();
    const r = p.push(Buffer.from(`${FIG2_200}GARBAGE`));
    assert.equal(r.frames.length, 1);
    assert.match(r.error ?? '', /not an MSRP frame/);
    assert.match(p.push(Buffer.from(FIG2_200)).error ?? '', /not an MSRP frame/);
    assert.equal(p.push(Buffer.from(FIG2_200)).frames.length, 0);
  });
});

describe('MSRP parser: unusable header values mark the request invalid (400) but keep the stream', () => {
  const base = (...headers: string[]): string => wire('MSRP abcd SEND', ...PATHS, ...headers, 'Content-Type: text/plain', '', 'hi', '-------abcd$');
  const invalid = (text: string, re: RegExp): void => {
    const r = parseAll(text + FIG2_200);
    assert.equal(r.error, undefined);
    assert.equal(r.frames.length, 2, 'the next frame still parses');
    assert.match((r.frames[0] as MsrpRequest).invalid ?? '', re);
  };
  test('Byte-Range nonsense, negative and overflowing numbers', () => {
    invalid(base('Message-ID: m123', 'Byte-Range: 5-3/10'), /before range-start/);
    invalid(base('Message-ID: m123', 'Byte-Range: 0-1/1'), /at least 1/);
    invalid(base('Message-ID: m123', 'Byte-Range: -1-5/5'), /malformed|range-start/);
    invalid(base('Message-ID: m123', 'Byte-Range: 1--5/5'), /range-end/);
    invalid(base('Message-ID: m123', 'Byte-Range: 1-5/-5'), /total/);
    invalid(base('Message-ID: m123', 'Byte-Range: 1-99999999999999999999/5'), /range-end/);
    invalid(base('Message-ID: m123', 'Byte-Range: 1-9007199254740993/9007199254740993'), /out of range/);
    invalid(base('Message-ID: m123', 'Byte-Range: 1-5/3'), /beyond total/);
    invalid(base('Message-ID: m123', 'Byte-Range: 9-*/3'), /beyond total/);
    invalid(base('Message-ID: m123', 'Byte-Range: a-b/c'), /malformed|range-start/);
    invalid(base('Message-ID: m123', 'Byte-Range: 1-5'), /malformed/);
    invalid(base('Message-ID: m123', 'Byte-Range: 1 - 5/5'), /range/);
    invalid(base('Message-ID: m123', 'Byte-Range: 0x1-5/5'), /range-start/);
    invalid(base('Message-ID: m123', 'Byte-Range: 1-5/5', 'Byte-Range: 1-5/5'), /duplicate/);
  });
  test('other header values', () => {
    invalid(base('Message-ID: m1'), /Message-ID/);
    invalid(base('Message-ID: m_123'), /Message-ID/);
    invalid(base('Message-ID: m123', 'Failure-Report: maybe'), /Failure-Report/);
    invalid(base('Message-ID: m123', 'Success-Report: partial'), /Success-Report/);
    invalid(base('Message-ID: m123', 'Status: 000 20 OK'), /Status/);
    invalid(base('Message-ID: m123', `To-Path: ${BOB_12763}`), /duplicate/);
    invalid(wire('MSRP abcd SEND', ...PATHS, 'Message-ID: m123', 'Content-Type: text/plain', 'X-After: 1', '', 'hi', '-------abcd$'), /last header/);
    invalid(wire('MSRP abcd SEND', ...PATHS, 'Message-ID: m123', 'Content-Type: text/plain', '-------abcd$'), /without a body/);
    invalid(wire('MSRP abcd SEND', ...PATHS, 'Message-ID: m123', '', 'hi', '-------abcd$'), /without Content-Type/);
    invalid(wire('MSRP abcd SEND', ...PATHS, 'Message-ID: m123', 'Content-Type: text', '', 'hi', '-------abcd$'), /Content-Type/);
  });
  test('a 36-character UUID Message-ID (RFC 7573 examples) is accepted; unknown headers are kept', () => {
    const r = req(base('Message-ID: 6480C096-937A-46E7-BF9D-1353706B60AA', 'X-Custom: ünïcode'));
    assert.equal(r.invalid, undefined);
    assert.equal(r.messageId, '6480C096-937A-46E7-BF9D-1353706B60AA');
    assert.deepEqual(r.headers.find((h) => h.name === 'X-Custom'), { name: 'X-Custom', value: 'ünïcode' });
  });
});

describe('MSRP header values', () => {
  test('Byte-Range and Status parse and format', () => {
    assert.deepEqual(value(parseByteRange('1-*/*')), { start: 1, end: '*', total: '*' });
    assert.deepEqual(value(parseByteRange('1-0/0')), { start: 1, end: 0, total: 0 });
    assert.equal(formatByteRange(value(parseByteRange('138-148/148'))), '138-148/148');
    error(parseByteRange(''));
    assert.deepEqual(value(parseStatus('000 413 Message Too Large')), { namespace: '000', code: 413, comment: 'Message Too Large' });
    assert.deepEqual(value(parseStatus('000 200')), { namespace: '000', code: 200 });
    error(parseStatus('000 200OK'));
    error(parseStatus('0 200'));
  });
  test('the serializer refuses unsafe input', () => {
    const base = { tid: 'abcd', method: 'SEND', toPath: [uri(BOB_12763)], fromPath: [uri(ALICE_7654)] };
    assert.throws(() => serializeRequest({ ...base, tid: 'ab' }), TypeError);
    assert.throws(() => serializeRequest({ ...base, method: 'send' }), TypeError);
    assert.throws(() => serializeRequest({ ...base, contentType: 'text/plain' }), /without a body/);
    assert.throws(() => serializeRequest({ ...base, body: Buffer.from('x') }), /Content-Type/);
    assert.throws(() => serializeRequest({ ...base, body: Buffer.from('a\r\n-------abcd$'), contentType: 'text/plain' }), /end-line/);
    assert.throws(() => serializeRequest({ ...base, body: Buffer.from('x'), contentType: 'text/plain\r\nX: y' }), /control/);
    assert.throws(() => serializeRequest({ ...base, extraHeaders: [{ name: 'Byte-Range', value: '1-1/1' }] }), TypeError);
    assert.throws(() => serializeRequest({ ...base, messageId: 'x' }), /Message-ID/);
    assert.throws(() => serializeResponse({ tid: 'abcd', code: 2000, toPath: base.toPath, fromPath: base.fromPath }), TypeError);
  });
});

// ---------------------------------------------------------------------------
// Chunking, reassembly and transaction rules at the frame level.

const LIMITS: ReassemblyLimits = { maxMessageBytes: 10_000, maxPartialMessages: 4, maxBufferedBytes: 40_000 };
type Accepted = Parameters<Reassembler['accept']>[0];
const chunk = (text: string | Buffer): Accepted => {
  const r = req(text);
  assert.ok(r.body !== null && r.messageId !== undefined);
  return r as Accepted;
};
const complete = (o: ReturnType<Reassembler['accept']>): { body: Buffer; tid: string; duplicate: boolean } => {
  assert.equal(o.kind, 'complete', JSON.stringify(o));
  if (o.kind !== 'complete') throw new Error('unreachable');
  return o.message;
};
const sendChunk = (tid: string, id: string, range: string, body: string, flag: '$' | '+' | '#'): string =>
  wire(`MSRP ${tid} SEND`, ...PATHS, `Message-ID: ${id}`, `Byte-Range: ${range}`, 'Content-Type: text/plain', '', body, `-------${tid}${flag}`);

describe('reassembly (RFC 4975 §5.1, §7.3.1)', () => {
  test('Figure 3 in order and in reverse order; the tid is that of the chunk holding byte 1', () => {
    const r1 = new Reassembler(LIMITS);
    assert.equal(r1.accept(chunk(FIG3_A)).kind, 'partial');
    const m1 = complete(r1.accept(chunk(FIG3_B)));
    assert.equal(m1.body.toString(), 'abcdEFGH');
    assert.equal(m1.tid, 'dkei38sd');
    const r2 = new Reassembler(LIMITS);
    assert.equal(r2.accept(chunk(FIG3_B)).kind, 'partial');
    const m2 = complete(r2.accept(chunk(FIG3_A)));
    assert.equal(m2.body.toString(), 'abcdEFGH');
    assert.equal(m2.tid, 'dkei38sd');
    assert.equal(r2.partialCount, 0);
    assert.equal(r2.bufferedBytes, 0);
  });

  test('Figures 14/15: the "$" chunk defines the total (147 although the header says 148)', () => {
    const r = new Reassembler(LIMITS);
    assert.equal(r.accept(chunk(FIG14)).kind, 'partial');
    const m = complete(r.accept(chunk(FIG15)));
    assert.equal(m.body.toString(), `${CPIM_BODY}1234567890`);
    assert.equal(m.body.length, 147);
  });

  test('a whole message in one SEND wins over a lying Byte-Range (Figure 2: 23 bytes, "1-25/25")', () => {
    assert.equal(complete(new Reassembler(LIMITS).accept(chunk(FIG2_SEND))).body.toString(), 'Hey Bob, are you there?');
  });

  test('"*" totals, gaps filled out of order, and the last chunk received wins on overlap', () => {
    const r = new Reassembler(LIMITS);
    assert.equal(r.accept(chunk(sendChunk('t0001', 'star', '1-*/*', 'abcd', '+'))).kind, 'partial');
    assert.equal(complete(r.accept(chunk(sendChunk('t0002', 'star', '5-*/*', 'EF', '$')))).body.toString(), 'abcdEF');

    assert.equal(r.accept(chunk(sendChunk('t0003', 'gap1', '7-9/9', 'ghi', '$'))).kind, 'partial');
    assert.equal(r.accept(chunk(sendChunk('t0004', 'gap1', '1-3/9', 'abc', '+'))).kind, 'partial');
    assert.equal(complete(r.accept(chunk(sendChunk('t0005', 'gap1', '4-6/9', 'def', '+')))).body.toString(), 'abcdefghi');

    assert.equal(r.accept(chunk(sendChunk('t0006', 'ovl1', '1-6/8', 'abcdef', '+'))).kind, 'partial');
    assert.equal(complete(r.accept(chunk(sendChunk('t0007', 'ovl1', '5-8/8', 'WXYZ', '$')))).body.toString(), 'abcdWXYZ');
    assert.equal(r.accept(chunk(sendChunk('t0008', 'ovl2', '5-8/8', 'WXYZ', '$'))).kind, 'partial');
    assert.equal(complete(r.accept(chunk(sendChunk('t0009', 'ovl2', '1-6/8', 'abcdef', '+')))).body.toString(), 'abcdefYZ');
  });

  test('an interrupted chunk: the body may be shorter than range-end, then "#" aborts the message', () => {
    const r = new Reassembler(LIMITS);
    assert.equal(r.accept(chunk(sendChunk('t0001', 'abrt', '1-*/20', 'abcdefgh', '+'))).kind, 'partial');
    assert.equal(r.accept(chunk(sendChunk('t0002', 'abrt', '9-20/20', 'ij', '#'))).kind, 'aborted');
    assert.equal(r.partialCount, 0);
    assert.equal(r.bufferedBytes, 0);
    // Interrupted with "+" (body shorter than range-end), then resumed where it stopped (§7.1.1).
    assert.equal(r.accept(chunk(sendChunk('t0003', 'intr', '1-10/10', 'abcd', '+'))).kind, 'partial');
    assert.equal(complete(r.accept(chunk(sendChunk('t0004', 'intr', '5-10/10', 'efghij', '$')))).body.toString(), 'abcdefghij');
  });

  test('413 when the total or the data exceed max-size, and for every later chunk of that message (§10.5)', () => {
    const r = new Reassembler(LIMITS);
    const big = r.accept(chunk(sendChunk('t0001', 'big1', '1-4/20000', 'abcd', '+')));
    assert.deepEqual(big, { kind: 'reject', code: 413, reason: 'message larger than 10000 bytes' });
    assert.equal(r.accept(chunk(sendChunk('t0002', 'big1', '5-8/20000', 'efgh', '+'))).kind, 'reject');
    assert.equal((r.accept(chunk(sendChunk('t0003', 'big1', '1-4/4', 'abcd', '$'))) as { code: number }).code, 413);
    // Unknown total, but the data goes past the limit.
    assert.equal((r.accept(chunk(sendChunk('t0004', 'big2', '9999-*/*', 'abcd', '+'))) as { code: number }).code, 413);
    assert.equal(r.partialCount, 0);
  });

  test('inconsistent chunks get 400', () => {
    const r = new Reassembler(LIMITS);
    assert.equal((r.accept(chunk(sendChunk('t0001', 'inc1', '1-2/10', 'abcd', '+'))) as { code: number }).code, 400);
    assert.equal((r.accept(chunk(sendChunk('t0002', 'inc2', '9-*/10', 'abcd', '+'))) as { code: number }).code, 400);
    assert.equal(r.accept(chunk(sendChunk('t0003', 'inc3', '1-4/10', 'abcd', '+'))).kind, 'partial');
    assert.equal((r.accept(chunk(sendChunk('t0004', 'inc3', '5-8/12', 'efgh', '+'))) as { code: number }).code, 400);
    assert.equal(r.accept(chunk(sendChunk('t0005', 'inc4', '1-4/*', 'abcd', '+'))).kind, 'partial');
    assert.equal(r.accept(chunk(sendChunk('t0006', 'inc4', '9-10/*', 'ij', '$'))).kind, 'partial');
    assert.equal((r.accept(chunk(sendChunk('t0007', 'inc4', '11-12/*', 'kl', '+'))) as { code: number }).code, 400);
    assert.equal(r.partialCount, 0);
  });

  test('bounded memory: partial messages, buffered bytes, fragments; clear() drops everything', () => {
    const r = new Reassembler({ maxMessageBytes: 10_000, maxPartialMessages: 2, maxBufferedBytes: 10_000, maxFragments: 3 });
    assert.equal(r.accept(chunk(sendChunk('t0001', 'part1', '1-4/10000', 'abcd', '+'))).kind, 'partial');
    assert.equal(r.accept(chunk(sendChunk('t0002', 'part2', '1-4/8', 'abcd', '+'))).kind, 'partial');
    assert.deepEqual(r.accept(chunk(sendChunk('t0003', 'part3', '1-4/8', 'abcd', '+'))), { kind: 'reject', code: 413, reason: 'too many partial messages' });
    assert.deepEqual(r.accept(chunk(sendChunk('t0004', 'part1', '9997-10000/10000', 'wxyz', '$'))), { kind: 'reject', code: 413, reason: 'too much buffered data' });
    assert.equal(r.partialCount, 1);
    assert.equal(r.accept(chunk(sendChunk('t0005', 'frag', '1-1/100', 'a', '+'))).kind, 'partial');
    assert.equal(r.accept(chunk(sendChunk('t0006', 'frag', '3-3/100', 'c', '+'))).kind, 'partial');
    assert.equal(r.accept(chunk(sendChunk('t0007', 'frag', '5-5/100', 'e', '+'))).kind, 'partial');
    assert.deepEqual(r.accept(chunk(sendChunk('t0008', 'frag', '7-7/100', 'g', '+'))), { kind: 'reject', code: 413, reason: 'message too fragmented' });
    assert.ok(r.bufferedBytes > 0);
    r.clear();
    assert.equal(r.partialCount, 0);
    assert.equal(r.bufferedBytes, 0);
  });

  test('a Message-ID seen complete before is flagged as a duplicate (§5.4)', () => {
    const r = new Reassembler(LIMITS);
    assert.equal(complete(r.accept(chunk(FIG2_SEND))).duplicate, false);
    assert.equal(complete(r.accept(chunk(FIG2_SEND))).duplicate, true);
  });
});

describe('chunking (RFC 4975 §5.1, §7.1.1)', () => {
  const ctx = { toPath: [uri(BOB_12763)], fromPath: [uri(ALICE_7654)], chunkSize: 2048, tidInUse: (): boolean => false };
  const src = (body: Buffer, extra: Partial<ChunkSource> = {}): ChunkSource =>
    ({ messageId: 'msg0001', contentType: 'text/plain', body, successReport: false, failureReport: 'no', ...extra });

  test('5000 bytes: three chunks with exact Byte-Ranges, "+" then "$", a new tid each', () => {
    const chunks = [...chunkMessage(src(Buffer.alloc(5000, 0x61)), ctx)];
    assert.deepEqual(chunks.map((c) => c.byteRange), [
      { start: 1, end: 2048, total: 5000 }, { start: 2049, end: 4096, total: 5000 }, { start: 4097, end: 5000, total: 5000 }]);
    assert.deepEqual(chunks.map((c) => c.flag), ['+', '+', '$']);
    assert.equal(new Set(chunks.map((c) => c.tid)).size, 3);
    for (const c of chunks) {
      assert.equal(c.messageId, 'msg0001');
      assert.equal(c.failureReport, 'no');
      assert.equal(c.successReport, undefined);
    }
  });

  test('the chunk size is capped at 2048 (§7.1.1); an empty body is one chunk "1-0/0"', () => {
    assert.equal([...chunkMessage(src(Buffer.alloc(4096)), { ...ctx, chunkSize: 100_000 })].length, 2);
    const empty = [...chunkMessage(src(Buffer.alloc(0)), ctx)];
    assert.equal(empty.length, 1);
    assert.deepEqual(empty[0]?.byteRange, { start: 1, end: 0, total: 0 });
    assert.deepEqual(empty[0]?.body, Buffer.alloc(0));
  });

  test('a wanted tid is used for the first chunk only, and only when valid, unused and absent from the body', () => {
    const two = [...chunkMessage(src(Buffer.alloc(3000), { tid: 'ms53b7z9' }), ctx)];
    assert.equal(two[0]?.tid, 'ms53b7z9');
    assert.notEqual(two[1]?.tid, 'ms53b7z9');
    assert.notEqual([...chunkMessage(src(Buffer.from('x'), { tid: 'bad_tid' }), ctx)][0]?.tid, 'bad_tid');
    assert.notEqual([...chunkMessage(src(Buffer.from('x'), { tid: 'busytid1' }), { ...ctx, tidInUse: (t) => t === 'busytid1' })][0]?.tid, 'busytid1');
    assert.notEqual([...chunkMessage(src(Buffer.from('a\r\n-------intext1$\r\n'), { tid: 'intext1' }), ctx)][0]?.tid, 'intext1');
  });

  test('chunk → serialize → parse (random splits) → reassemble gives the message back', () => {
    const rnd = prng(42);
    for (let round = 0; round < 20; round++) {
      const body = Buffer.from(Array.from({ length: Math.floor(rnd() * 9000) }, () => Math.floor(rnd() * 256)));
      const bytes = Buffer.concat([...chunkMessage(src(body, { messageId: `round${round}` }), { ...ctx, chunkSize: 1 + Math.floor(rnd() * 2048) })].map(serializeRequest));
      const p = new MsrpParser();
      const r = new Reassembler(LIMITS);
      let result: Buffer | undefined;
      for (let i = 0; i < bytes.length;) {
        const n = 1 + Math.floor(rnd() * 3000);
        for (const f of p.push(bytes.subarray(i, i + n)).frames) {
          const o = r.accept(f as Accepted);
          if (o.kind === 'complete') result = o.message.body;
        }
        i += n;
      }
      assert.deepEqual(result, body, `round ${round}`);
    }
  });
});

describe('transaction rules (RFC 4975 §7.1.2–§7.2, §8.6)', () => {
  test('Failure-Report: absent/yes → always respond; partial → errors only; no → never', () => {
    for (const code of [200, 400, 413, 481]) {
      assert.equal(mayRespond(undefined, code), true);
      assert.equal(mayRespond('yes', code), true);
      assert.equal(mayRespond('partial', code), code !== 200);
      assert.equal(mayRespond('no', code), false);
    }
  });
  test('responses: To-Path is the first From-Path URI for SEND, the whole path otherwise; From-Path is us', () => {
    const relayed = req(wire('MSRP abcd SEND', `To-Path: ${BOB_12763}`, `From-Path: msrp://relay.example:2855;tcp ${ALICE_7654}`, '-------abcd$'));
    const me = uri(BOB_12763);
    assert.deepEqual(responseTo(relayed, 200, me), { tid: 'abcd', code: 200, comment: 'OK', toPath: [uri('msrp://relay.example:2855;tcp')], fromPath: [me] });
    const other = req(wire('MSRP abcd NICKNAME', `To-Path: ${BOB_12763}`, `From-Path: msrp://relay.example:2855;tcp ${ALICE_7654}`, '-------abcd$'));
    assert.equal(responseTo(other, 501, me).toPath.length, 2);
    assert.equal(responseTo(other, 501, me).comment, 'Not Implemented');
    // Figure 2's response, rebuilt from Figure 2's request.
    assert.equal(serializeResponse(responseTo(req(FIG2_SEND), 200, uri(BOB_12763))).toString(), FIG2_200);
  });
  test('method-specific checks', () => {
    assert.equal(requestProblem(req(FIG2_SEND)), null);
    assert.equal(requestProblem(req(FIG17)), null);
    assert.match(requestProblem(req(wire('MSRP abcd SEND', ...PATHS, 'Content-Type: text/plain', '', 'x', '-------abcd$'))) ?? '', /Message-ID/);
    assert.equal(requestProblem(req(wire('MSRP abcd SEND', ...PATHS, '-------abcd$'))), null);
    assert.match(requestProblem(req(wire('MSRP abcd REPORT', ...PATHS, 'Message-ID: m123', '-------abcd$'))) ?? '', /Status/);
    assert.match(requestProblem(req(wire('MSRP abcd REPORT', ...PATHS, 'Status: 000 200 OK', '-------abcd$'))) ?? '', /Message-ID/);
    assert.match(requestProblem(req(wire('MSRP abcd REPORT', ...PATHS, 'Message-ID: m123', 'Failure-Report: no', 'Status: 000 200 OK', '-------abcd$'))) ?? '', /Failure-Report/);
  });
  test('accept-types matching: "*", "type/*", parameters ignored', () => {
    assert.ok(acceptsType(['*'], 'application/whatever'));
    assert.ok(acceptsType(['text/*'], 'text/html; charset=utf-8'));
    assert.ok(acceptsType(['message/cpim', 'text/plain;charset=UTF-8'], 'TEXT/Plain'));
    assert.ok(!acceptsType(['text/plain'], 'text/html'));
    assert.ok(!acceptsType(['text/plain'], 'not a type'));
  });
  test('the success REPORT of Figure 16 (with its real size) has the shape of Figure 17', () => {
    const sent = req(FIG16);
    const report = successReport({ tid: 'dkei38sd', messageId: sent.messageId ?? '', size: sent.body?.length ?? 0, toPath: sent.fromPath, self: uri(BOB_8888) });
    assert.equal(serializeRequest(report).toString(), FIG17.replace(/1-106\/106/, `1-${HTML_BODY.length}/${HTML_BODY.length}`));
  });
});

describe('RFC 7573 vectors at the frame level (mapping digest §10 E, Byte-Range totals corrected)', () => {
  const X2S_7654 = 'msrp://x2s.example.com:7654/jshA7weztas;tcp';
  const S2X_12763 = 'msrp://s2x.example.net:12763/kjhd37s2s20w2a;tcp';
  const X2S_8763 = 'msrp://x2s.example.com:8763/lkjh37s2s20w2a;tcp';
  // Ex.16/24/25 use s2x…:7313/jshA7weztas, mixing two sessions (App. A); Romeo's path of Ex.10 is used instead.
  const S2X_7313 = 'msrp://s2x.example.net:7313/ansp71weztas;tcp';
  const gatewaySend = (s: ChunkSource, to: string, from: string): OutgoingRequest[] =>
    [...chunkMessage(s, { toPath: [uri(to)], fromPath: [uri(from)], chunkSize: 2048, tidInUse: () => false })];

  test('E2: the gateway SEND of Ex.5 with Byte-Range 1-35/35', () => {
    const [only] = gatewaySend({ messageId: '54C6F4F1-A39C-47D6-8718-FA65B3D0414A', contentType: 'text/plain',
      body: Buffer.from('Art thou not Romeo, and a Montague?'), successReport: false, failureReport: 'no', tid: 'a786hjs2' }, S2X_12763, X2S_7654);
    assert.ok(only);
    assert.equal(serializeRequest(only).toString(), wire('MSRP a786hjs2 SEND', `To-Path: ${S2X_12763}`, `From-Path: ${X2S_7654}`,
      'Message-ID: 54C6F4F1-A39C-47D6-8718-FA65B3D0414A', 'Byte-Range: 1-35/35', 'Failure-Report: no', 'Content-Type: text/plain', '',
      'Art thou not Romeo, and a Montague?', '-------a786hjs2$'));
  });

  test('E3: Romeo\'s SEND (Ex.6, 1-44/44, Failure-Report: no) is delivered and gets no response', () => {
    const ex6 = req(wire('MSRP di2fs53v SEND', `To-Path: ${X2S_7654}`, `From-Path: ${S2X_12763}`, 'Message-ID: 6480C096-937A-46E7-BF9D-1353706B60AA',
      'Byte-Range: 1-44/44', 'Failure-Report: no', 'Content-Type: text/plain', '', 'Neither, fair saint, if either thee dislike.', '-------di2fs53v$'));
    assert.equal(requestProblem(ex6), null);
    const m = complete(new Reassembler(LIMITS).accept(ex6 as Accepted));
    assert.equal(m.body.toString(), 'Neither, fair saint, if either thee dislike.');
    assert.equal(m.tid, 'di2fs53v');
    for (const code of [200, 400, 413, 415, 481]) assert.equal(mayRespond(ex6.failureReport, code), false);
  });

  test('E6: the reply of Ex.16 with Byte-Range 1-22/22 and Failure-Report: no', () => {
    const [only] = gatewaySend({ messageId: '17EBA17B-94C0-463B-AD84-DE405C4C9D41', contentType: 'text/plain',
      body: Buffer.from('What man art thou ...?'), successReport: false, failureReport: 'no', tid: 'ms53b7z9' }, S2X_7313, X2S_8763);
    assert.ok(only);
    assert.equal(serializeRequest(only).toString(), wire('MSRP ms53b7z9 SEND', `To-Path: ${S2X_7313}`, `From-Path: ${X2S_8763}`,
      'Message-ID: 17EBA17B-94C0-463B-AD84-DE405C4C9D41', 'Byte-Range: 1-22/22', 'Failure-Report: no', 'Content-Type: text/plain', '',
      'What man art thou ...?', '-------ms53b7z9$'));
  });

  const E9_ID = '6187CF9B-317A-41DA-BB6A-5E48A9C794EF';
  test('E9: a receipt request becomes Success-Report: yes with Failure-Report: no (Ex.24)', () => {
    const [only] = gatewaySend({ messageId: E9_ID, contentType: 'text/plain', body: Buffer.from('What man art thou ...?'),
      successReport: true, failureReport: 'no', tid: 'bf9m36d5' }, S2X_7313, X2S_8763);
    assert.ok(only);
    assert.equal(serializeRequest(only).toString(), wire('MSRP bf9m36d5 SEND', `To-Path: ${S2X_7313}`, `From-Path: ${X2S_8763}`,
      `Message-ID: ${E9_ID}`, 'Byte-Range: 1-22/22', 'Success-Report: yes', 'Failure-Report: no', 'Content-Type: text/plain', '',
      'What man art thou ...?', '-------bf9m36d5$'));
  });

  test('E10: Romeo\'s REPORT (Ex.25, 1-22/22) is what a success report for E9 looks like, and is valid', () => {
    const ex25 = wire('MSRP hx74g336 REPORT', `To-Path: ${X2S_8763}`, `From-Path: ${S2X_7313}`, `Message-ID: ${E9_ID}`,
      'Byte-Range: 1-22/22', 'Status: 000 200 OK', '-------hx74g336$');
    const r = req(ex25);
    assert.equal(requestProblem(r), null);
    assert.deepEqual(r.status, { namespace: '000', code: 200, comment: 'OK' });
    assert.equal(r.messageId, E9_ID);
    assert.equal(serializeRequest(successReport({ tid: 'hx74g336', messageId: E9_ID, size: 22, toPath: [uri(X2S_8763)], self: uri(S2X_7313) })).toString(), ex25);
  });

  test('E11: a chunk with Byte-Range 1-4096/20000000 over the limit gets 413', () => {
    const body = 'x'.repeat(4096);
    const e11 = chunk(wire('MSRP e11chunk SEND', ...PATHS, 'Message-ID: e11message', 'Byte-Range: 1-4096/20000000', 'Content-Type: text/plain', '', body, '-------e11chunk+'));
    const o = new Reassembler(LIMITS).accept(e11);
    assert.equal(o.kind === 'reject' && o.code, 413);
    assert.equal(mayRespond(e11.failureReport, 413), true);
  });
});
