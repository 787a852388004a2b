// The openai npm client instrumented by OpenInference JS (@arizeai/openinference-instrumentation-openai), exporting
// through the standard OTLP exporter that OTEL_EXPORTER_OTLP_PROTOCOL names (http/protobuf, http/json or grpc) to
// OTEL_EXPORTER_OTLP_ENDPOINT. Run by record_node.py, which serves the recorder and the fake OpenAI API
// (OPENAI_BASE_URL) and reads "CASE_DONE <name>" lines to cut the recording into cases.
"use strict";
const path = require("node:path");
const { createRequire } = require("node:module");
const nodeRequire = createRequire(path.join(__dirname, "..", "otlp_node", "package.json"));

const api = nodeRequire("@opentelemetry/api");
const { NodeSDK } = nodeRequire("@opentelemetry/sdk-node");
const { BatchSpanProcessor } = nodeRequire("@opentelemetry/sdk-trace");
const { resourceFromAttributes } = nodeRequire("@opentelemetry/resources");
const { OpenAIInstrumentation } = nodeRequire("@arizeai/openinference-instrumentation-openai");
const { setSession, setUser, setMetadata, setTags } = nodeRequire("@arizeai/openinference-core");

const protocol = process.env.OTEL_EXPORTER_OTLP_PROTOCOL || "http/protobuf";
const exporterModule = {
  "http/protobuf": "@opentelemetry/exporter-trace-otlp-proto",
  "http/json": "@opentelemetry/exporter-trace-otlp-http",
  grpc: "@opentelemetry/exporter-trace-otlp-grpc",
}[protocol];
const { OTLPTraceExporter } = nodeRequire(exporterModule);
// SDK 3.x: the processor takes an options object ({ exporter }), no longer the exporter itself.
const processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter() });
const instrumentation = new OpenAIInstrumentation();
const sdk = new NodeSDK({
  resource: resourceFromAttributes({ "service.name": "obs-fixture-openinference-js", "deployment.environment.name": "test" }),
  resourceDetectors: [], // no host / process detectors: fixtures stay small and carry nothing of this machine
  spanProcessors: [processor],
  instrumentations: [instrumentation],
});
sdk.start();

const OpenAI = nodeRequire("openai"); // after start(): the instrumentation patches it as it loads
const client = new OpenAI({ apiKey: "sk-test", baseURL: process.env.OPENAI_BASE_URL, maxRetries: 0 });
const tracer = api.trace.getTracer("obs.fixtures");
const SYSTEM = "You are a terse assistant. Answer in one sentence.";
const QUESTION = "What is the capital of France?";
const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The current weather in a city.",
    parameters: {
      type: "object",
      properties: { city: { type: "string", description: "City name" } },
      required: ["city"],
    },
  },
};
const messages = [
  { role: "system", content: SYSTEM },
  { role: "user", content: QUESTION },
];

const CASES = {
  chat: () => client.chat.completions.create({ model: "gpt-5-mini", messages, temperature: 0.2, max_completion_tokens: 64 }),
  stream: async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-5-mini", messages, stream: true, stream_options: { include_usage: true },
    });
    for await (const _chunk of stream) { /* drain */ }
  },
  tool_call: () => client.chat.completions.create({
    model: "gpt-5-mini",
    messages: [{ role: "user", content: "What is the weather in Paris?" }],
    tools: [WEATHER_TOOL],
    tool_choice: "auto",
  }),
  error_429: async () => {
    try {
      await client.chat.completions.create({ model: "fail-429", messages: [{ role: "user", content: QUESTION }] });
    } catch (err) {
      if (!(err instanceof OpenAI.RateLimitError)) throw err; // the LLM span carries the error; the parent ends OK
    }
  },
};

async function main() {
  const only = (process.env.CASES || Object.keys(CASES).join(",")).split(",");
  for (const name of only) {
    let ctx = api.context.active();
    ctx = setSession(ctx, { sessionId: "session-7" });
    ctx = setUser(ctx, { userId: "user-42" });
    ctx = setMetadata(ctx, { tenant_id: "acme", feature: "faq", case: name });
    ctx = setTags(ctx, ["fixture"]);
    await api.context.with(ctx, () =>
      tracer.startActiveSpan(
        "answer_question",
        { attributes: { "openinference.span.kind": "CHAIN", "input.value": QUESTION, "session.id": "session-7", "user.id": "user-42" } },
        async (span) => {
          try {
            await CASES[name]();
            span.setAttribute("output.value", "Paris");
          } finally {
            span.end();
          }
        },
      ),
    );
    // Some spans end a tick after the awaited call settles (the error path): let them, then flush.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await processor.forceFlush();
    console.log(`CASE_DONE ${name}`);
  }
  await sdk.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
