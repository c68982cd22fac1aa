const ENGLISH = [
  'Hello world!',
  'The quick brown fox jumps over the lazy dog.',
  "It's a beautiful day, isn't it? We'll see; they'd've said so.",
  'Once upon a time, there was a little girl named Lily.',
  'Mr. Smith paid $1,234.56 on 2024-03-15 at 10:30am (approx.).',
  'HELLO, World... hello?? WORLD!!!',
  'e-mail: jane.doe+tag@example.com, url: https://example.org/a/b?c=1&d=2#frag',
  'naïve café résumé coöperate façade Ångström',
  'Ünïcödé àçcénts: Straße, Œuvre, Æsir, ĳssel, ﬁne ligatures',
  '3.14159 2718 1e-9 0x1F 1_000_000 42nd 7th',
  'A',
  'a',
  'I',
  '.',
  '!',
  '?',
  "'",
  '"quoted"',
  '(paren)',
  '[bracket]',
  'Supercalifragilisticexpialidocious antidisestablishmentarianism',
  'the the the the the the the the',
  'Don’t “smart quotes” — em-dash – en-dash … ellipsis',
  'Tab\tseparated\tvalues\tin\tone\tline',
];

const CODE = [
  'def f(x):\n    return x ** 2\n',
  'function add(a, b) {\n  return a + b;\n}\n',
  'for (let i = 0; i < n; i++) { sum += arr[i]; }',
  '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name;',
  '{"key": [1, 2, 3], "nested": {"a": null, "b": true}}',
  '<div class="x"><span>text</span></div>',
  'x = [i for i in range(10) if i % 2 == 0]  # comment',
  'fn main() -> Result<(), Box<dyn Error>> { Ok(()) }',
  '    indented four\n\tindented tab\n        eight',
  'const re = /^[a-z]+\\d{2,3}$/gi;',
  'a&&b||!c ? d : e; x >>= 2; y **= 3; z ??= 0;',
  '```python\nprint("fenced")\n```',
  '$ npm install --save-dev typescript@5 && npx tsc -b',
  'C:\\Users\\name\\file.txt /usr/local/bin/node ~/.bashrc',
];

const EMOJI = [
  '😀',
  '😀😃😄😁',
  '👍🏽',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈',
  '🇫🇷🇯🇵',
  '❤️',
  '1️⃣',
  '🧑🏻‍💻 coding',
  'I love 🍕 and 🍣!',
  '🚀🚀🚀 launch',
  '☃ ☀ ☂ ★ ♠ ♥',
  '✅ done ❌ failed',
  '🤷‍♀️',
  '🫠🫶🪿',
];

const CJK = [
  '你好，世界！',
  '我爱自然语言处理。',
  '日本語のテキストです。',
  'ひらがな カタカナ 漢字',
  '한국어 문장입니다.',
  '中文English混合text',
  '東京都渋谷区',
  '这是一个测试：１２３',
  'ｆｕｌｌｗｉｄｔｈ　ｓｐａｃｅ',
  '繁體中文與简体中文',
  '（括号）【方括号】《书名》',
  'Привет, мир!',
  'مرحبا بالعالم',
  'שלום עולם',
  'नमस्ते दुनिया',
  'สวัสดีชาวโลก',
  'Γειά σου Κόσμε',
];

const WHITESPACE = [
  ' ',
  '  ',
  '   leading',
  'trailing   ',
  '  both  ',
  'a  b   c    d',
  '\n',
  '\n\n',
  'line1\nline2',
  'line1\r\nline2\r\n',
  '\t',
  '\t\tdouble tab',
  ' \t \n mixed \n\t ',
  'nbsp\u00a0here',
  'thin\u2009space',
  'zero\u200bwidth',
  'ideographic\u3000space',
  'many' + ' '.repeat(17) + 'spaces',
  '\n'.repeat(5) + 'after newlines',
  'end with newline\n',
];

const SEPARATORS = [' ', '', '\n', '  ', '\t', '. ', ', ', '\n\n', ' - '];

/**
 * A fixed corpus of at least 500 strings for tokenizer agreement tests: English, code, emoji, CJK
 * and other scripts, whitespace runs, and `specials` (the tokenizer's own special-token strings)
 * placed alone, inside text and back to back. Deterministic: the same list on every run.
 */
export function tokenizerCorpus(specials: readonly string[]): string[] {
  const base = [...ENGLISH, ...CODE, ...EMOJI, ...CJK, ...WHITESPACE];
  const out = [...base, ''];
  for (const s of specials) {
    out.push(s, `${s}${s}`, `${s}Hello`, `Hello${s}`, ` ${s} `, `a ${s} b`, `${s}\n你好${s}`);
  }
  // A fixed linear congruential sequence: the same corpus everywhere, no dependency.
  let state = 20241;
  const rng = {
    nextUint32: (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state >>> 8;
    },
  };
  const pick = <T>(xs: readonly T[]): T => xs[rng.nextUint32() % xs.length] as T;
  while (out.length < 520) {
    const parts = 2 + (rng.nextUint32() % 3);
    let text = pick(base);
    for (let i = 1; i < parts; i++) {
      const next = specials.length > 0 && rng.nextUint32() % 5 === 0 ? pick(specials) : pick(base);
      text += pick(SEPARATORS) + next;
    }
    out.push(text);
  }
  return out;
}
