// The assistant's evaluation: the questions of questions.json asked to a running feria (the
// demo catalog in its default store, the shop's policies written here), each answer checked:
// the products it must and must not name, each card's price against the product's record, the
// price ceiling the shopper named, every "$" amount in the text against the cards, the policy
// or report it had to draw on, and no answer the grounding check refused. Prints each
// question's result and the score.
//
//   BASE=http://127.0.0.1:3000 EMAIL=admin@x PASSWORD=... node bench/assistant/eval.mjs
import { readFileSync } from 'node:fs';

const base = process.env.BASE || 'http://127.0.0.1:3000';
const questions = JSON.parse(readFileSync(new URL('./questions.json', import.meta.url)));
const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

async function api(method, path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const login = await api('POST', '/api/auth/login', { email: process.env.EMAIL, password: process.env.PASSWORD });
if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
const token = login.body.token;
const policies = {
  shipping: 'Enviamos a domicilio en CABA y GBA en 24 a 48 horas; retiro gratis en el local.',
  payments: 'Aceptamos Mercado Pago, tarjetas, transferencia y efectivo al retirar.',
  hours: 'Atendemos de lunes a sábado de 9 a 20 horas.',
};
for (const [kind, body] of Object.entries(policies)) await api('PUT', `/api/store-policies/${kind}`, { body }, token);

const records = new Map();
async function record(id) {
  if (!records.has(id)) records.set(id, (await api('GET', `/api/products/${id}`)).body);
  return records.get(id);
}

let passed = 0, checks = 0, perfect = 0;
const modes = new Set();
for (const item of questions) {
  const { status, body } = await api('POST', '/api/chatbot/query', { message: item.q, userType: item.owner ? 'owner' : 'customer' }, item.owner ? token : undefined);
  const failures = [];
  const check = (ok, what) => { checks++; if (ok) passed++; else failures.push(what); };
  check(status === 200, `HTTP ${status}`);
  if (status === 200) {
    modes.add(`${body.mode}${body.keylessReason ? ` (${body.keylessReason})` : ''}`);
    const cards = body.products || [];
    const said = fold(body.response + ' ' + cards.map((c) => c.name).join(' '));
    for (const name of item.must || []) check(said.includes(name), `names ${name}`);
    for (const name of item.mustNot || []) check(!said.includes(name), `does not name ${name}`);
    if (item.none) check(cards.length === 0, 'names no product');
    for (const card of cards) {
      const product = await record(card.id);
      check(product && String(product.priceWithTax) === String(card.price), `${card.name}: card price ${card.price} is the record's`);
      if (item.maxPrice) check(Number(card.price) <= item.maxPrice, `${card.name} under ${item.maxPrice}`);
    }
    if (!item.owner) {
      const amounts = [...body.response.matchAll(/\$\s?[\d.,]+\d/g)].map((m) => m[0].replace(/\s/g, ''));
      for (const amount of amounts) check(cards.some((c) => c.priceText === amount), `amount ${amount} comes from a card`);
    }
    if (item.policy) check((body.sources || []).some((s) => s.type === 'policy' && s.id === item.policy), `draws on the ${item.policy} policy`);
    if (item.report) check((body.sources || []).some((s) => s.type === 'report' && s.id === item.report), `draws on ${item.report}`);
    check(body.grounding.status !== 'refused', `not refused (${body.grounding.caught.join('; ')})`);
  }
  if (failures.length === 0) perfect++;
  console.log(`${failures.length ? 'FAIL' : 'ok  '}  ${item.q}${failures.length ? `  — ${failures.join('; ')}` : ''}`);
}
console.log(`\nmode: ${[...modes].join(', ')}`);
console.log(`score: ${perfect}/${questions.length} questions fully right; ${passed}/${checks} checks (${((100 * passed) / checks).toFixed(1)} %)`);
