import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { MarkdownView } from '../../web/src/components/markdown-view.js';
import { parseInline, parseMarkdown, sanitizeHref } from '../../web/src/lib/markdown.js';

function render(source: string): string {
  return renderToStaticMarkup(createElement(MarkdownView, { source }));
}

describe('MarkdownView', () => {
  it('shows HTML in a result as text instead of interpreting it', () => {
    const html = render('Hello <script>alert(1)</script> <img src=x onerror="alert(2)">');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
  });

  it('escapes HTML inside code, headings, list items and link text', () => {
    const html = render('# <b>x</b>\n\n- <i>y</i>\n\n`<u>`\n\n[<em>z</em>](https://example.com)');
    expect(html).toContain('<h3 class="md-h md-h1">&lt;b&gt;x&lt;/b&gt;</h3>');
    expect(html).toContain('<li>&lt;i&gt;y&lt;/i&gt;</li>');
    expect(html).toContain('<code>&lt;u&gt;</code>');
    expect(html).toContain('&lt;em&gt;z&lt;/em&gt;</a>');
  });

  it('renders headings, lists, emphasis, code and links', () => {
    const html = render(
      '## Findings\n\n1. **Qubits** are *fragile*\n2. Use `error correction`\n\n- see [paper](https://arxiv.org/abs/1)\n\n```ts\nconst a = 1 < 2;\n```',
    );
    expect(html).toContain('<h4 class="md-h md-h2">Findings</h4>');
    expect(html).toContain(
      '<ol start="1"><li><strong>Qubits</strong> are <em>fragile</em></li><li>Use <code>error correction</code></li></ol>',
    );
    expect(html).toContain(
      '<ul><li>see <a href="https://arxiv.org/abs/1" target="_blank" rel="noopener noreferrer nofollow">paper</a></li></ul>',
    );
    expect(html).toContain('<pre data-language="ts"><code>const a = 1 &lt; 2;</code></pre>');
  });

  it('drops links with a script scheme but keeps their text', () => {
    const html = render('[click](javascript:alert(1)) and [data](data:text/html;base64,xx)');
    expect(html).not.toContain('href');
    expect(html).toContain('click');
  });
});

describe('parseMarkdown', () => {
  it('splits paragraphs on blank lines and keeps line breaks inside one', () => {
    expect(parseMarkdown('one\ntwo\n\nthree')).toEqual([
      {
        type: 'paragraph',
        children: [{ type: 'text', text: 'one' }, { type: 'break' }, { type: 'text', text: 'two' }],
      },
      { type: 'paragraph', children: [{ type: 'text', text: 'three' }] },
    ]);
  });

  it('reads unordered lists with any bullet and ordered lists with their start', () => {
    const blocks = parseMarkdown('* a\n+ b\n- c\n\n3. x\n4. y');
    expect(blocks).toEqual([
      {
        type: 'list',
        ordered: false,
        start: 1,
        items: [[{ type: 'text', text: 'a' }], [{ type: 'text', text: 'b' }], [{ type: 'text', text: 'c' }]],
      },
      {
        type: 'list',
        ordered: true,
        start: 3,
        items: [[{ type: 'text', text: 'x' }], [{ type: 'text', text: 'y' }]],
      },
    ]);
  });

  it('reads heading levels, rules and quotes', () => {
    expect(parseMarkdown('### Three ###\n\n---\n\n> quoted')).toEqual([
      { type: 'heading', level: 3, children: [{ type: 'text', text: 'Three' }] },
      { type: 'rule' },
      { type: 'quote', children: [{ type: 'paragraph', children: [{ type: 'text', text: 'quoted' }] }] },
    ]);
  });

  it('keeps an unclosed code fence to the end of the text', () => {
    expect(parseMarkdown('```\nline 1\nline 2')).toEqual([
      { type: 'code', language: '', text: 'line 1\nline 2' },
    ]);
  });
});

describe('parseInline', () => {
  it('leaves underscores inside words alone', () => {
    expect(parseInline('use snake_case_names here')).toEqual([
      { type: 'text', text: 'use snake_case_names here' },
    ]);
  });

  it('nests emphasis inside bold', () => {
    expect(parseInline('**very *much***')).toEqual([
      {
        type: 'strong',
        children: [
          { type: 'text', text: 'very ' },
          { type: 'em', children: [{ type: 'text', text: 'much' }] },
        ],
      },
    ]);
  });

  it('treats backslash-escaped markers as text', () => {
    expect(parseInline('\\*not italic\\*')).toEqual([{ type: 'text', text: '*not italic*' }]);
  });

  it('links bare web addresses without their trailing punctuation', () => {
    expect(parseInline('see https://example.com/a.')).toEqual([
      { type: 'text', text: 'see ' },
      {
        type: 'link',
        href: 'https://example.com/a',
        children: [{ type: 'text', text: 'https://example.com/a' }],
      },
      { type: 'text', text: '.' },
    ]);
  });
});

describe('sanitizeHref', () => {
  it('allows web, mail and relative links', () => {
    expect(sanitizeHref('https://x.org')).toBe('https://x.org');
    expect(sanitizeHref('mailto:a@b.c')).toBe('mailto:a@b.c');
    expect(sanitizeHref('/docs/a:b')).toBe('/docs/a:b');
    expect(sanitizeHref('#section')).toBe('#section');
  });

  it('refuses other schemes, even when disguised with whitespace or case', () => {
    expect(sanitizeHref('javascript:alert(1)')).toBeNull();
    expect(sanitizeHref('JaVaScRiPt:alert(1)')).toBeNull();
    expect(sanitizeHref('java\tscript:alert(1)')).toBeNull();
    expect(sanitizeHref(' data:text/html,x')).toBeNull();
    expect(sanitizeHref('vbscript:x')).toBeNull();
  });
});
