// A Node.js app that only changes its base URL to go through `obs proxy`: the openai npm client, a plain chat call
// and a streamed one, with obs's attribute headers in defaultHeaders. Run by tests/test_proxy_clients.py, which
// starts the proxy in front of a fake upstream. Prints what the client got as one JSON object:
// {"chat": <the completion>, "stream": [<each chunk>]}.
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.OBS_PROXY_BASE_URL,
  apiKey: process.env.OPENAI_API_KEY,
  maxRetries: 0,
  timeout: 20_000,
  defaultHeaders: { "obs-user-id": process.env.OBS_USER_ID, "obs-feature": process.env.OBS_FEATURE },
});
const messages = [
  { role: "system", content: "You are a terse assistant." },
  { role: "user", content: "What is the capital of France?" },
];

const chat = await client.chat.completions.create({ model: "gpt-4o-mini", messages, temperature: 0.2 });
const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
const chunks = [];
for await (const chunk of stream) {
  chunks.push(chunk);
}
process.stdout.write(JSON.stringify({ chat, stream: chunks }) + "\n");
