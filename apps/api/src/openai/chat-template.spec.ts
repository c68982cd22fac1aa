import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { HotpathError } from '@hotpath/contracts';
import { chatTemplateFromTokenizerConfig } from '@hotpath/queue';
import { ChatTemplateRenderer } from './chat-template';

const NONE = { template: null, bos_token: '<s>', eos_token: '</s>' };
const LLAMA2 =
  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
  "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
  "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}";

describe('ChatTemplateRenderer', () => {
  const r = new ChatTemplateRenderer();

  it('renders the documented default template, developer as system', async () => {
    const text = await r.render(NONE, [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Bye' },
    ]);
    assert.equal(
      text,
      '<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\nHello!\n<|user|>\nBye\n<|assistant|>\n',
    );
  });

  it("renders a model's Jinja template with special tokens, dropping the leading BOS", async () => {
    const info = { template: LLAMA2, bos_token: '<s>', eos_token: '</s>' };
    const text = await r.render(info, [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: 'c' },
    ]);
    assert.equal(text, '[INST] a [/INST]b</s>[INST] c [/INST]');
  });

  it("turns the template's raise_exception into a 400 on messages", async () => {
    const info = { template: LLAMA2, bos_token: '<s>', eos_token: '</s>' };
    await assert.rejects(
      r.render(info, [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]),
      (err: unknown) =>
        err instanceof HotpathError && err.param === 'messages' && /must alternate/.test(err.message),
    );
  });
});

describe('chatTemplateFromTokenizerConfig', () => {
  it('reads string and list templates and special tokens in both forms', () => {
    assert.deepEqual(
      chatTemplateFromTokenizerConfig({
        chat_template: 'T',
        bos_token: '<s>',
        eos_token: { content: '</s>' },
      }),
      {
        template: 'T',
        bos_token: '<s>',
        eos_token: '</s>',
      },
    );
    const listed = chatTemplateFromTokenizerConfig({
      chat_template: [
        { name: 'tool_use', template: 'U' },
        { name: 'default', template: 'D' },
      ],
    });
    assert.equal(listed.template, 'D');
    assert.deepEqual(chatTemplateFromTokenizerConfig({}), { template: null, bos_token: '', eos_token: '' });
    assert.equal(chatTemplateFromTokenizerConfig(null).template, null);
  });
});
