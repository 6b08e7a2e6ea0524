// The official `openai` npm package against a base URL: one answer, one stream. Prints one JSON line.
// Usage: node openai_client.mjs BASE_URL MODEL   (the key comes from OPENAI_API_KEY)
import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
const messages = [{ role: "user", content: "Weather in Paris?" }];
const out = { ok: true };
try {
  const answer = await client.chat.completions.create({ model, messages, max_tokens: 16 });
  out.content = answer.choices[0].message.content;
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 16, stream: true });
  out.chunks = 0;
  out.streamed = "";
  for await (const chunk of stream) {
    out.chunks += 1;
    out.streamed += chunk.choices[0]?.delta?.content ?? "";
  }
} catch (error) {
  Object.assign(out, { ok: false, error: String(error), status: error?.status ?? null });
}
console.log(JSON.stringify(out));
