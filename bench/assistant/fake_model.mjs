// A stand-in language model for the assistant's evaluation and benchmark: OpenAI's Chat
// Completions on loopback, answering at once and by rule, never by knowledge. It names the
// products the system prompt lists (what feria retrieved), else searches the catalog with the
// question's first content word; for the owner it calls the figures' tools and repeats what
// they returned. It shows what feria does around a model, not how good a model is.
//
//   node bench/assistant/fake_model.mjs          (FAKE_MODEL_PORT, default 3929)
import http from 'node:http';

const port = Number(process.env.FAKE_MODEL_PORT || 3929);
const stopwords = new Set(('tienen tenes tenés algo para unos unas como cuanto cuánto sale salen quiero busco hola ' +
  'donde cual cuales esta este estos estas tengo hacen hace desde hasta menos personas tiene precio precios ' +
  'alguna alguno algun favor gracias necesito puedo pueden quisiera').split(' '));

const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
const usage = { prompt_tokens: 900, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 0 } };
const reply = (message, finish) => ({
  id: 'chatcmpl-fake', object: 'chat.completion', model: 'fake-model',
  choices: [{ index: 0, message, finish_reason: finish }], usage,
});
const text = (content) => reply({ role: 'assistant', content }, 'stop');
const call = (name, args) => reply({
  role: 'assistant', content: null,
  tool_calls: [{ id: `call_${name}`, type: 'function', function: { name, arguments: JSON.stringify(args) } }],
}, 'tool_calls');
const tags = (ids) => 'Te recomiendo ' + ids.slice(0, 3).map((id) => `[[p:${id}]]`).join(', ') + '.';

function monday() {
  const now = new Date();
  const day = (now.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - day)).toISOString().slice(0, 10);
}

function answer(body) {
  const messages = body.messages || [];
  const system = messages[0]?.role === 'system' ? messages[0].content : '';
  const last = messages[messages.length - 1] || {};
  const tools = (body.tools || []).map((t) => t.function.name);
  if (last.role === 'tool') {
    const data = JSON.parse(last.content).data || {};
    if (data.revenue !== undefined) {
      return text(`Del ${data.period.from.slice(0, 10)} a hoy: ${data.soldOrders} ventas por $${data.revenue}.`);
    }
    if (data.since) return text(`Desde el ${data.since.slice(0, 10)}, ${data.total} clientes no volvieron a comprar.`);
    if (data.threshold !== undefined) return text(`Hay ${data.total} productos con ${data.threshold} unidades o menos.`);
    const products = data.products || (data.id ? [data] : []);
    return text(products.length ? tags(products.map((p) => p.id)) : 'No encontré productos para eso en la tienda.');
  }
  const question = fold(String(last.content || ''));
  if (question.startsWith('control de feria')) return text('Perdón, consultá el catálogo de la tienda.');
  if (tools.includes('get_business_stats') && /vend|venta|factur/.test(question)) return call('get_business_stats', { from: monday() });
  if (tools.includes('lapsed_customers') && /cliente/.test(question)) return call('lapsed_customers', { days: 60 });
  if (tools.includes('low_stock_report') && /stock/.test(question)) return call('low_stock_report', {});
  const candidates = [...system.matchAll(/^- \[\[p:([^\]\s]+)\]\]/gm)].map((m) => m[1]);
  const policies = system.split('Políticas de la tienda')[1];
  if (policies) return text('Te cuento: ' + policies.split('\n').slice(1).join(' ').trim());
  if (candidates.length) return text(tags(candidates));
  const word = question.split(/[^a-z0-9ñ]+/).find((w) => w.length >= 4 && !stopwords.has(w));
  if (word && tools.includes('get_products')) return call('get_products', { search: word });
  return text('Puedo ayudarte con productos, pedidos, envíos y pagos de esta tienda.');
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', () => {
    const ok = req.method === 'POST' && req.url === '/v1/chat/completions';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? answer(JSON.parse(raw)) : { error: { message: 'not found', type: 'invalid_request_error' } }));
  });
}).listen(port, '127.0.0.1', () => console.log(`fake model on http://127.0.0.1:${port}`));
