import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { MarkdownView } from '../../web/src/components/markdown-view.js';
import { sanitizeHref } from '../../web/src/lib/safe-href.js';

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

  it('shows an HTML block as text too', () => {
    const html = render('<div onclick="alert(1)">\n<iframe src="https://evil.example"></iframe>\n</div>');
    expect(html).not.toContain('<div onclick');
    expect(html).not.toContain('<iframe');
    expect(html).toContain('&lt;iframe');
  });

  it('renders headings below the page, emphasis, code and fenced code', () => {
    const html = render(
      '## Findings\n\n**Qubits** are *fragile*, use `error correction`\n\n```ts\nconst a = 1 < 2;\n```',
    );
    expect(html).toContain('<h4 class="md-h md-h2">Findings</h4>');
    expect(html).toContain('<strong>Qubits</strong> are <em>fragile</em>, use <code>error correction</code>');
    expect(html).toContain('<pre><code class="language-ts">const a = 1 &lt; 2;\n</code></pre>');
  });

  it('renders GitHub tables', () => {
    const html = render('| Agent | Score |\n| --- | ---: |\n| bob | 72 |\n| rex | 65 |');
    expect(html).toContain('<div class="md-table-wrap"><table>');
    expect(html).toContain('<th>Agent</th>');
    expect(html).toContain('<td style="text-align:right">72</td>');
    expect(html.match(/<tr>/g)).toHaveLength(3);
  });

  it('renders nested lists', () => {
    const html = render('1. Plan\n   - gather data\n   - check sources\n2. Report');
    expect(html).toMatch(/<ol>\s*<li>\s*<p>Plan<\/p>\s*<ul>|<ol>\s*<li>Plan\s*<ul>/);
    expect(html).toContain('<li>gather data</li>');
    expect(html).toContain('<li>Report</li>');
  });

  it('opens http(s) links apart, telling the other page nothing', () => {
    const html = render('see [paper](https://arxiv.org/abs/1) and https://example.com/x');
    expect(html).toContain(
      '<a href="https://arxiv.org/abs/1" target="_blank" rel="noopener noreferrer">paper</a>',
    );
    expect(html).toContain(
      '<a href="https://example.com/x" target="_blank" rel="noopener noreferrer">https://example.com/x</a>',
    );
  });

  it('treats a protocol-relative link as the other site it is', () => {
    const html = render('[docs](//evil.example/login)');
    expect(html).toContain(
      '<a href="//evil.example/login" target="_blank" rel="noopener noreferrer">docs</a>',
    );
  });

  it('keeps a relative link, opened the same careful way', () => {
    expect(render('[agent](/agents/agent_a)')).toContain(
      '<a href="/agents/agent_a" target="_blank" rel="noopener noreferrer">agent</a>',
    );
  });

  it('drops links with a script, data or mail scheme but keeps their text', () => {
    const html = render(
      '[click](javascript:alert(1)) and [data](data:text/html;base64,xx) and [tab](java\tscript:x) and [mail](mailto:a@b.c)',
    );
    expect(html).not.toContain('href');
    expect(html).toContain('click');
    expect(html).toContain('data');
    expect(html).toContain('mail');
  });

  it('shows an image as its description, never loading it', () => {
    const html = render('![a chart](https://tracker.example/pixel.png)');
    expect(html).not.toContain('<img');
    expect(html).toContain('[image: a chart]');
  });
});

describe('sanitizeHref', () => {
  it('keeps http(s), relative and protocol-relative links', () => {
    expect(sanitizeHref('https://a.example/x')).toBe('https://a.example/x');
    expect(sanitizeHref('HTTP://a.example')).toBe('HTTP://a.example');
    expect(sanitizeHref('/agents/x')).toBe('/agents/x');
    expect(sanitizeHref('notes.md#top')).toBe('notes.md#top');
    expect(sanitizeHref('//evil.example')).toBe('//evil.example');
  });

  it('refuses every other scheme, however it is disguised', () => {
    for (const href of [
      'javascript:alert(1)',
      ' JavaScript:x',
      'java\nscript:x',
      'data:text/html,x',
      'mailto:a@b.c',
      'vbscript:x',
      '',
    ]) {
      expect(sanitizeHref(href), href).toBeNull();
    }
  });
});
