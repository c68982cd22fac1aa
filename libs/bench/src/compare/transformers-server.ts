// A minimal HTTP server around Hugging Face transformers.js pipelines: the `transformers.js` system of
// `hotpath bench compare`, started by the bench as a child process (never imported). It is what a
// Node developer would write: one pipeline per model, one request at a time (requests wait their
// turn; concurrent pipeline calls only fight over the same cores), local model files only.
//
//   node transformers-server.js --generate DIR [--embed DIR]
//   POST /generate {"prompt", "max_new_tokens"} → NDJSON: {"token": id} per token, then {"done": true, "tokens": n}
//   POST /embed {"texts": [...]} → {"dims": [n, d]}
// It prints {"port": N} on stdout once both pipelines are loaded.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';

type Transformers = typeof import('@huggingface/transformers', { with: { 'resolution-mode': 'import' } });

interface GenerateBody {
  prompt: string;
  max_new_tokens: number;
}

async function readJson<T>(req: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { generate: { type: 'string' }, embed: { type: 'string' } },
    strict: true,
  });
  if (!values.generate) throw new Error('--generate DIR is required');
  const t: Transformers = await import('@huggingface/transformers');
  t.env.allowRemoteModels = false;
  t.env.allowLocalModels = true;
  t.env.useFSCache = false;
  // Our folders keep model.onnx at the top level; transformers.js looks in onnx/ unless told otherwise.
  const options = { local_files_only: true, subfolder: '', dtype: 'fp32', device: 'cpu' } as const;
  t.env.localModelPath = `${dirname(values.generate)}/`;
  const generator = await t.pipeline('text-generation', basename(values.generate), options);
  let extractor: Awaited<ReturnType<typeof t.pipeline<'feature-extraction'>>> | undefined;
  if (values.embed) {
    t.env.localModelPath = `${dirname(values.embed)}/`;
    extractor = await t.pipeline('feature-extraction', basename(values.embed), options);
  }

  let turn: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(work, work);
    turn = run.catch(() => undefined);
    return run;
  };

  const generate = async (body: GenerateBody, res: ServerResponse): Promise<void> => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    let tokens = 0;
    const streamer = new t.TextStreamer(generator.tokenizer, {
      skip_prompt: true,
      callback_function: () => undefined,
      token_callback_function: (ids: bigint[]) => {
        for (const id of ids) {
          tokens++;
          res.write(`{"token":${Number(id)}}\n`);
        }
      },
    });
    await generator(body.prompt, { max_new_tokens: body.max_new_tokens, do_sample: false, streamer });
    res.end(`{"done":true,"tokens":${tokens}}\n`);
  };

  const server = createServer((req, res) => {
    const fail = (status: number, err: unknown): void => {
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: (err as Error).message ?? String(err) }));
    };
    if (req.method === 'GET' && req.url === '/healthz') return void res.end('ok');
    if (req.method !== 'POST') return fail(405, new Error('POST only'));
    if (req.url === '/generate') {
      readJson<GenerateBody>(req)
        .then((body) => serially(() => generate(body, res)))
        .catch((err: unknown) => fail(500, err));
    } else if (req.url === '/embed' && extractor) {
      const ex = extractor;
      readJson<{ texts: string[] }>(req)
        .then((body) => serially(() => ex(body.texts, { pooling: 'mean', normalize: true })))
        .then((out) => res.end(JSON.stringify({ dims: out.dims })))
        .catch((err: unknown) => fail(500, err));
    } else fail(404, new Error('not found'));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The bench closes our stdin when it goes away: never outlive it.
  process.stdin.on('end', stop);
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`transformers-server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
