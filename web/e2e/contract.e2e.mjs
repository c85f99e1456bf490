// The client's copy of the OpenAPI document (checked field by field by api.test.ts) must be the
// server's: a changed API fails here until the copy and the client are updated together.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BASE } from './harness.mjs';

test('web/src/openapi.json matches the live server', async () => {
  const live = await (await fetch(`${BASE}/api/openapi.json`)).json();
  const copy = JSON.parse(readFileSync(new URL('../src/openapi.json', import.meta.url), 'utf8'));
  assert.deepEqual(
    live.components.schemas,
    copy.components.schemas,
    'refresh it: curl -s <server>/api/openapi.json | python3 -m json.tool > web/src/openapi.json',
  );
});
