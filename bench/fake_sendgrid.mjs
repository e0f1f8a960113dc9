// A stand-in SendGrid for the broadcast benchmark: `POST /v3/mail/send` on loopback answers
// 202 with an `X-Message-Id` at once; `GET /count` says how many mails it took.
//
//   node bench/fake_sendgrid.mjs          (FAKE_SENDGRID_PORT, default 3930)
import http from 'node:http';

const port = Number(process.env.FAKE_SENDGRID_PORT || 3930);
let taken = 0;

http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.end(String(taken));
    return;
  }
  req.resume();
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/v3/mail/send') {
      taken += 1;
      res.writeHead(202, { 'x-message-id': `fake-${taken}` }).end();
    } else {
      res.writeHead(404).end();
    }
  });
}).listen(port, '127.0.0.1');
