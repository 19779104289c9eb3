// The official JavaScript SDK (@io-orkes/conductor-javascript 4.0.0) against `integ server`.
//
// Run by tests/e2e/test_sdk_js.py:
//   node integrations.cjs SDK_DIR
// with CONDUCTOR_SERVER_URL, CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET set (the SDK reads
// them). SDK_DIR is the folder npm installed the SDK into. Each step prints "ok <call>"; the
// first failed assertion ends the script with its message and a non-zero exit.
"use strict";

const assert = require("node:assert/strict");
const path = require("node:path");

const sdkDir = path.resolve(process.argv[2]);
const sdk = require(require.resolve("@io-orkes/conductor-javascript", { paths: [sdkDir] }));

const SECRET = "sk-js-sdk-0001";
const MASK = "xxxxxxxxxx";

function step(call) {
  process.stdout.write(`ok ${call}\n`);
}

function pairs(tags) {
  return tags.map((t) => [t.key, t.value]);
}

async function main() {
  const client = await sdk.createConductorClient(); // POST /api/token with the key above
  const integrations = new sdk.IntegrationClient(client);

  // -- providers ---------------------------------------------------------------------------
  await integrations.saveIntegrationProvider("openai-js", {
    type: "openai",
    category: "AI_MODEL",
    description: "made by the JavaScript SDK",
    enabled: true,
    configuration: { api_key: SECRET, endpoint: "https://api.openai.com/v1" },
  });
  step("saveIntegrationProvider (create)");
  let got = await integrations.getIntegrationProvider("openai-js");
  assert.equal(got.type, "openai");
  assert.equal(got.category, "AI_MODEL");
  assert.deepEqual(got.configuration, { api_key: MASK, endpoint: "https://api.openai.com/v1" });
  assert.equal(typeof got.createTime, "number");
  assert.equal(got.updateTime >= got.createTime, true);
  step("getIntegrationProvider");

  await integrations.saveIntegrationProvider("openai-js", {
    type: "openai",
    description: "updated by the JavaScript SDK",
    enabled: true,
    configuration: { api_key: MASK, endpoint: "https://api.openai.com/v2" },
  });
  got = await integrations.getIntegrationProvider("openai-js");
  assert.equal(got.description, "updated by the JavaScript SDK");
  assert.equal(got.configuration.endpoint, "https://api.openai.com/v2");
  step("saveIntegrationProvider (update)");

  await integrations.saveIntegrationProvider("pinecone-js", {
    type: "pineconedb",
    enabled: true,
    configuration: { api_key: "pc-js-0001" },
  });
  await integrations.saveIntegrationProvider("pinecone-js", {
    type: "pineconedb",
    enabled: false,
    configuration: { api_key: MASK },
  });
  assert.equal((await integrations.getIntegrationProvider("pinecone-js")).enabled, false);
  step("saveIntegrationProvider (disable)");

  const active = await integrations.getIntegrationProviders();
  assert.deepEqual(active.map((p) => p.name), ["openai-js"]);
  step("getIntegrationProviders (active only)");
  const every = await integrations.getIntegrations(undefined, false);
  assert.deepEqual(every.map((p) => p.name), ["openai-js", "pinecone-js"]);
  step("getIntegrations (activeOnly false)");

  // -- models ------------------------------------------------------------------------------
  await integrations.saveIntegrationApi("openai-js", "gpt-4o", {
    description: "GPT-4o",
    enabled: true,
    configuration: {},
  });
  await integrations.saveIntegrationApi("openai-js", "gpt-4o-mini", {
    description: "GPT-4o mini",
    enabled: false,
    configuration: {},
  });
  step("saveIntegrationApi");
  const model = await integrations.getIntegrationApi("openai-js", "gpt-4o");
  assert.equal(model.api, "gpt-4o");
  assert.equal(model.integrationName, "openai-js");
  assert.equal(model.description, "GPT-4o");
  step("getIntegrationApi");
  assert.deepEqual((await integrations.getIntegrationApis("openai-js")).map((m) => m.api), ["gpt-4o"]);
  step("getIntegrationApis");
  assert.deepEqual(await integrations.getIntegrationAvailableApis("openai-js"), ["gpt-4o", "gpt-4o-mini"]);
  step("getIntegrationAvailableApis");
  assert.deepEqual(await integrations.getProvidersAndIntegrations(), ["openai-js:gpt-4o"]);
  assert.deepEqual(await integrations.getProvidersAndIntegrations(undefined, false), [
    "openai-js:gpt-4o",
    "openai-js:gpt-4o-mini",
    "pinecone-js",
  ]);
  assert.deepEqual(await integrations.getProvidersAndIntegrations("pineconedb", false), ["pinecone-js"]);
  step("getProvidersAndIntegrations");
  const withModels = await integrations.getIntegrations("AI_MODEL", true);
  assert.deepEqual(withModels.map((p) => [p.name, p.apis.map((a) => a.api)]), [["openai-js", ["gpt-4o"]]]);
  step("getIntegrations (with apis)");

  // -- tags --------------------------------------------------------------------------------
  await integrations.setProviderTags("openai-js", [
    { key: "team", value: "docs" },
    { key: "team", value: "marketing" },
  ]);
  assert.deepEqual(pairs(await integrations.getProviderTags("openai-js")), [
    ["team", "docs"],
    ["team", "marketing"],
  ]);
  step("setProviderTags / getProviderTags (two values of one key)");
  await integrations.deleteProviderTags("openai-js", [{ key: "team", value: "docs" }]);
  assert.deepEqual(pairs(await integrations.getProviderTags("openai-js")), [["team", "marketing"]]);
  step("deleteProviderTags");
  await integrations.setIntegrationTags("openai-js", "gpt-4o", [{ key: "tier", value: "gold" }]);
  assert.deepEqual(pairs(await integrations.getIntegrationTags("openai-js", "gpt-4o")), [["tier", "gold"]]);
  step("setIntegrationTags / getIntegrationTags");
  await integrations.deleteIntegrationTags("openai-js", "gpt-4o", [{ key: "tier", value: "gold" }]);
  assert.deepEqual(await integrations.getIntegrationTags("openai-js", "gpt-4o"), []);
  step("deleteIntegrationTags");

  // -- definitions -------------------------------------------------------------------------
  const defs = await integrations.getIntegrationProviderDefs();
  const openaiDef = defs.find((d) => d.type === "openai");
  assert.ok(openaiDef, "no openai definition");
  const apiKey = openaiDef.configuration.find((f) => f.fieldName === "api_key");
  assert.equal(apiKey.fieldType, "PASSWORD");
  step("getIntegrationProviderDefs");

  // -- prompts -----------------------------------------------------------------------------
  await integrations.associatePromptWithIntegration("openai-js", "gpt-4o", "summarize");
  step("associatePromptWithIntegration");
  const prompts = await integrations.getPromptsWithIntegration("openai-js", "gpt-4o");
  assert.deepEqual(prompts.map((p) => [p.name, p.integrations]), [["summarize", ["openai-js:gpt-4o"]]]);
  step("getPromptsWithIntegration");

  // -- bulk save: IntegrationResource.saveAllIntegrations is not exported by the package, so
  // the same request (POST /api/integrations/, Integration[]) goes through the SDK's client.
  await client.post({
    security: [{ name: "X-Authorization", type: "apiKey" }],
    url: "/api/integrations/",
    headers: { "Content-Type": "application/json" },
    body: [
      {
        name: "mistral-js",
        type: "mistral",
        configuration: { api_key: "ms-js-0001" },
        apis: [{ integrationName: "mistral-js", api: "mistral-large", enabled: true }],
      },
    ],
  });
  got = await integrations.getIntegrationProvider("mistral-js");
  assert.equal(got.modelsCount, 1);
  assert.equal(got.configuration.api_key, MASK);
  step("saveAllIntegrations (POST /api/integrations/ through the client)");

  // -- deletes -----------------------------------------------------------------------------
  await integrations.deleteIntegrationApi("openai-js", "gpt-4o-mini");
  assert.deepEqual(await integrations.getIntegrationAvailableApis("openai-js"), ["gpt-4o"]);
  step("deleteIntegrationApi");
  for (const name of ["openai-js", "pinecone-js", "mistral-js"]) {
    await integrations.deleteIntegrationProvider(name);
  }
  assert.deepEqual(await integrations.getIntegrations(undefined, false), []);
  step("deleteIntegrationProvider");
  await assert.rejects(integrations.getIntegrationProvider("openai-js"), /openai-js/);
  step("getIntegrationProvider of a deleted provider rejects");
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`FAILED: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
