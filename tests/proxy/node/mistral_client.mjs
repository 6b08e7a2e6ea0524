// The official `@mistralai/mistralai` TypeScript SDK against a server URL: one answer, one stream. One JSON line.
// Usage: node mistral_client.mjs SERVER_URL MODEL   (the key comes from MISTRAL_API_KEY)
import { Mistral } from "@mistralai/mistralai";

const [serverURL, model] = process.argv.slice(2);
const client = new Mistral({ apiKey: process.env.MISTRAL_API_KEY, serverURL, retryConfig: { strategy: "none" } });
const messages = [{ role: "user", content: "Weather in Paris?" }];
const out = { ok: true };
try {
  const answer = await client.chat.complete({ model, messages, maxTokens: 16 });
  out.content = answer.choices[0].message.content;
  const stream = await client.chat.stream({ model, messages, maxTokens: 16 });
  out.chunks = 0;
  out.streamed = "";
  for await (const event of stream) {
    out.chunks += 1;
    out.streamed += event.data.choices[0]?.delta?.content ?? "";
  }
} catch (error) {
  Object.assign(out, { ok: false, error: String(error), status: error?.statusCode ?? null });
}
console.log(JSON.stringify(out));
