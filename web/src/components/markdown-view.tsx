import type { Root } from 'mdast';
import type { ComponentProps } from 'react';
import Markdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { sanitizeHref } from '../lib/safe-href.js';

/** HTML in a result is shown as the text it is, never interpreted (the parser would otherwise drop it). */
function remarkHtmlAsText() {
  return (tree: Root) => {
    const visit = (node: { type: string; children?: unknown[] }) => {
      if (node.type === 'html') node.type = 'text';
      for (const child of node.children ?? []) visit(child as { type: string; children?: unknown[] });
    };
    visit(tree);
  };
}

function SafeLink({ href, children }: ComponentProps<'a'>) {
  const safe = href === undefined ? null : sanitizeHref(href);
  if (safe === null) return <span className="md-link-dropped">{children}</span>;
  // Every link opens apart from Mission Control and tells the other page nothing about it.
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

// Result headings sit inside a stream item, so `#` starts below the page's own headings.
const COMPONENTS: Components = {
  h1: ({ children }) => <h3 className="md-h md-h1">{children}</h3>,
  h2: ({ children }) => <h4 className="md-h md-h2">{children}</h4>,
  h3: ({ children }) => <h5 className="md-h md-h3">{children}</h5>,
  h4: ({ children }) => <h6 className="md-h md-h4">{children}</h6>,
  h5: ({ children }) => <h6 className="md-h md-h5">{children}</h6>,
  h6: ({ children }) => <h6 className="md-h md-h6">{children}</h6>,
  a: ({ href, children }) => <SafeLink href={href}>{children}</SafeLink>,
  // Wide tables scroll inside the result instead of widening the page.
  table: ({ children }) => (
    <div className="md-table-wrap">
      <table>{children}</table>
    </div>
  ),
  img: ({ alt }) => <span className="md-image-alt">{alt ? `[image: ${alt}]` : '[image]'}</span>,
};

// The link check is SafeLink's alone; react-markdown's own default would rewrite URLs first.
const keepUrl = (url: string) => url;

/** Renders Markdown (with GitHub's tables, task lists and strikethrough) as React elements, safely. */
export function MarkdownView({ source }: { source: string }) {
  return (
    <div className="markdown">
      <Markdown remarkPlugins={[remarkGfm, remarkHtmlAsText]} components={COMPONENTS} urlTransform={keepUrl}>
        {source}
      </Markdown>
    </div>
  );
}
