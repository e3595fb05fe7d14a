// Checks every response the e2e tests received from billpayd (the JSON lines their HTTPS client
// wrote into DIR, BILLPAY_CONTRACT_LOG) against docs/openapi.yaml: the path and method are in
// the contract (or the answer is the documented 404/405 error), the status is one the operation
// documents, and a JSON body matches the response's schema.
//   node check-responses.mjs DIR OPENAPI_YAML
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const [dir, contractFile] = process.argv.slice(2);
const contract = parse(readFileSync(contractFile, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
ajv.addSchema({ $id: 'openapi', components: contract.components });

// The contract's path templates as regular expressions.
const routes = Object.entries(contract.paths).map(([template, item]) => ({
  template,
  item,
  pattern: new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
}));

const validators = new Map();
function validatorFor(schema) {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) {
    // $refs point into the contract's components.
    const rewritten = JSON.parse(key.replaceAll('"#/components/', '"openapi#/components/'));
    validators.set(key, ajv.compile(rewritten));
  }
  return validators.get(key);
}

function resolve(response) {
  if (response && response.$ref) {
    return response.$ref.split('/').slice(1).reduce((o, k) => o[k], contract);
  }
  return response;
}

const problems = [];
let checked = 0;
const errorSchema = { $ref: '#/components/schemas/Error' };
for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    const path = r.target.split('?')[0];
    const route = routes.find((x) => x.pattern.test(path));
    const method = r.method.toLowerCase();
    const where = `${r.method} ${path} -> ${r.status}`;
    if (!r.request_id) {
      // billpayd names every response's log line; a response without one is another server's
      // (a test's fake), unless it claims a path of the contract.
      if (route) problems.push(`${where}: no Request-Id header`);
      continue;
    }
    let schema = null;
    let documented = false;
    if (!route || !route.item[method]) {
      // Not in the contract: billpayd must say so as a documented error.
      documented = r.status === 404 || r.status === 405 || r.status === 400 || r.status === 401;
      schema = errorSchema;
    } else {
      const response = resolve(route.item[method].responses[String(r.status)]);
      documented = Boolean(response);
      const json = response && response.content && response.content['application/json'];
      schema = json ? json.schema : null;
    }
    // Refusals before routing (malformed HTTP, limits, authentication) are the Error shape.
    if (!documented && [400, 401, 408, 413, 415, 431, 503].includes(r.status)) {
      documented = true;
      schema = errorSchema;
    }
    checked += 1;
    if (!documented) {
      problems.push(`${where}: status not in the contract`);
      continue;
    }
    if (schema && r.body && (r.content_type || '').startsWith('application/json')) {
      let body;
      try {
        body = JSON.parse(r.body);
      } catch {
        problems.push(`${where}: body is not JSON`);
        continue;
      }
      const validate = validatorFor(schema);
      if (!validate(body)) {
        problems.push(`${where}: ${ajv.errorsText(validate.errors)}`);
      }
    }
  }
}
const unique = [...new Set(problems)];
console.log(`checked ${checked} responses against the contract; ${unique.length} distinct problems`);
for (const p of unique.slice(0, 50)) console.log('  ' + p);
process.exit(unique.length === 0 ? 0 : 1);
