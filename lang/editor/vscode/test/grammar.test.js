// Tokenizes flows with the extension's TextMate grammar, as VS Code does
// (vscode-textmate with the Oniguruma engine), and checks that comments,
// strings, numbers and keywords get the scopes themes colour.
//
// Usage: node grammar.test.js [FILE.flow...]
// Without files it checks ../../../../flows/*/*.flow and a fixed sample.
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const grammarPath = path.join(__dirname, '..', 'syntaxes', 'flow.tmLanguage.json');
const flowsDir = path.join(__dirname, '..', '..', '..', '..', 'flows');

const KEYWORDS = new Set(['package', 'import', 'as', 'param', 'secret', 'table', 'env', 'flow', 'ledger', 'on', 'let', 'when',
  'lookup', 'where', 'and', 'else', 'create', 'upsert', 'update', 'key', 'for', 'in', 'journal', 'header', 'debit', 'credit', 'amount']);

async function loadGrammar() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.flow') return null;
      return vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath);
    },
  });
  return registry.loadGrammar('source.flow');
}

// tokenize returns, per line, a function from a column to its scopes.
function tokenize(grammar, text) {
  let stack = vsctm.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return (col) => {
      for (const t of r.tokens) {
        if (t.startIndex <= col && col < t.endIndex) return t.scopes;
      }
      return [];
    };
  });
}

// lex is the ground truth: the comments, strings, numbers and words of a
// line, as the flow lexer reads them (one-line strings, which is all the
// examples use). inString carries a triple-quoted string across lines.
function lex(line) {
  const out = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '/' && line[i + 1] === '/') {
      out.push({ kind: 'comment', start: i, end: line.length });
      break;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < line.length && line[j] !== c) j += line[j] === '\\' ? 2 : 1;
      out.push({ kind: 'string', start: i, end: Math.min(j + 1, line.length) });
      i = j + 1;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^\d+(\.\d+)?/.exec(line.slice(i));
    if (m) {
      const kind = /\d/.test(c) ? 'number' : 'word';
      out.push({ kind, start: i, end: i + m[0].length, text: m[0] });
      i += m[0].length;
      continue;
    }
    i++;
  }
  return out;
}

const has = (scopes, prefix) => scopes.some((s) => s.startsWith(prefix));

function check(grammar, name, text, counts, failures) {
  const lines = tokenize(grammar, text);
  text.split('\n').forEach((line, n) => {
    const at = lines[n];
    for (const tok of lex(line)) {
      const where = `${name}:${n + 1}:${tok.start + 1}`;
      const fail = (want) => failures.push(`${where}: ${JSON.stringify(line.slice(tok.start, tok.end))} has scopes ${at(tok.start).join(' ')}, want ${want}`);
      for (let col = tok.start; col < tok.end; col++) {
        const scopes = at(col);
        if (tok.kind === 'comment' && !has(scopes, 'comment.line.double-slash.flow')) return fail('comment.line.double-slash.flow');
        if (tok.kind === 'string' && !has(scopes, 'string.quoted')) return fail('string.quoted.*');
        if (tok.kind === 'number' && !has(scopes, 'constant.numeric')) return fail('constant.numeric.*');
      }
      if (tok.kind !== 'word') {
        counts[tok.kind]++;
        continue;
      }
      const before = line.slice(0, tok.start).trimEnd();
      const after = line.slice(tok.end);
      const member = before.endsWith('.');
      const fieldName = /^\s*:/.test(after) && !/\?\s*$/.test(before);
      const declared = /\b(let|lookup)\s*$/.test(before);
      let keyword = !declared && KEYWORDS.has(tok.text) || ((tok.text === 'order' || tok.text === 'group') && /^\s+by\b/.test(after));
      const scopes = at(tok.start);
      const isKeyword = has(scopes, 'keyword.') || has(scopes, 'storage.type');
      if (member || fieldName) {
        if (isKeyword) fail('no keyword scope (a field name)');
        counts.field++;
      } else if (keyword) {
        if (!isKeyword) fail('keyword.* or storage.type.*');
        counts.keyword++;
      }
    }
  });
}

const SAMPLE = `// a sample with each kind of token
package shop
import "d365fo" as erp { company: 'usmf' }
param limit: int = 0x1F
table fee: map(string, decimal) = { "a": 1.50, "b": 2e3 }
flow f {
    on stripe.charge.succeeded as ev // trailing comment
    order by ev.data.object.id
    let amount = ev.data.object.amount + 100
    lookup c = erp.CustomersV3 where CustomerAccount == "x\\"y" else wait for 10m
    upsert erp.SalesOrderHeadersV2 key "k:" + ev.id {
        key: "no keyword here",
        CurrencyCode: upper(ev.data.object.currency),
    }
}
`;

// expect pins exact scopes of the sample.
function expectSample(grammar, failures) {
  const lines = tokenize(grammar, SAMPLE);
  const src = SAMPLE.split('\n');
  const want = [
    [1, 'package', 'keyword.other.package.flow'], [1, 'shop', 'entity.name.namespace.flow'],
    [2, '"d365fo"', 'string.quoted.double.flow'], [2, 'as', 'keyword.other.flow'], [2, "'usmf'", 'string.quoted.single.flow'],
    [3, '0x1F', 'constant.numeric.hex.flow'], [3, 'limit', 'variable.other.constant.flow'],
    [4, '1.50', 'constant.numeric.flow'], [4, '2e3', 'constant.numeric.flow'],
    [5, 'f {', 'entity.name.function.flow'],
    [6, 'on', 'keyword.control.flow'], [6, '// trailing', 'comment.line.double-slash.flow'],
    [7, 'order', 'keyword.other.flow'], [7, 'id', 'variable.other.member.flow'],
    [8, 'amount', 'variable.other.declaration.flow'], [8, '.amount', 'punctuation.accessor.flow'], [8, '100', 'constant.numeric.flow'],
    [9, '\\"', 'constant.character.escape.flow'], [9, 'else', 'keyword.control.flow'], [9, '10m', 'constant.numeric.duration.flow'],
    [10, 'key', 'keyword.other.flow'],
    [11, 'key', 'variable.other.property.flow'],
    [12, 'upper', 'entity.name.function.call.flow'],
  ];
  for (const [n, text, scope] of want) {
    const col = src[n].indexOf(text);
    const scopes = col < 0 ? [] : lines[n](col);
    if (!scopes.includes(scope)) failures.push(`sample:${n + 1}: ${text} has scopes ${scopes.join(' ')}, want ${scope}`);
  }
  return want.length;
}

async function main() {
  const grammar = await loadGrammar();
  let files = process.argv.slice(2);
  if (files.length === 0) {
    for (const dir of fs.readdirSync(flowsDir)) {
      const d = path.join(flowsDir, dir);
      if (!fs.statSync(d).isDirectory()) continue;
      for (const f of fs.readdirSync(d)) if (f.endsWith('.flow')) files.push(path.join(d, f));
    }
  }
  if (files.length === 0) throw new Error('no .flow files to check');
  const failures = [];
  const counts = { comment: 0, string: 0, number: 0, keyword: 0, field: 0 };
  for (const f of files.sort()) check(grammar, path.relative(process.cwd(), f), fs.readFileSync(f, 'utf8'), counts, failures);
  check(grammar, 'sample', SAMPLE, counts, failures);
  const pinned = expectSample(grammar, failures);
  for (const f of failures) console.error(f);
  console.log(`${files.length} files: ${counts.keyword} keywords, ${counts.string} strings, ${counts.comment} comments, ${counts.number} numbers, ${counts.field} field names checked; ${pinned} pinned scopes; ${failures.length} failures`);
  if (failures.length > 0 || counts.keyword === 0 || counts.string === 0 || counts.comment === 0 || counts.number === 0) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
