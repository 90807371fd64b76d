import { Fragment, type ReactNode } from 'react';
import { type Block, type Inline, parseMarkdown } from '../lib/markdown.js';

function renderInline(nodes: Inline[]): ReactNode[] {
  return nodes.map((node, index) => renderInlineNode(node, `${node.type}-${index}`));
}

function renderInlineNode(node: Inline, key: string): ReactNode {
  switch (node.type) {
    case 'text':
      return <Fragment key={key}>{node.text}</Fragment>;
    case 'code':
      return <code key={key}>{node.text}</code>;
    case 'strong':
      return <strong key={key}>{renderInline(node.children)}</strong>;
    case 'em':
      return <em key={key}>{renderInline(node.children)}</em>;
    case 'link':
      return (
        <a key={key} href={node.href} target="_blank" rel="noopener noreferrer nofollow">
          {renderInline(node.children)}
        </a>
      );
    case 'break':
      return <br key={key} />;
  }
}

// Result headings sit inside a stream item, so `#` starts below the page's own headings.
const HEADING_TAGS = ['h3', 'h4', 'h5', 'h6', 'h6', 'h6'] as const;

function renderBlocks(blocks: Block[]): ReactNode[] {
  return blocks.map((block, index) => renderBlock(block, `${block.type}-${index}`));
}

function renderBlock(block: Block, key: string): ReactNode {
  switch (block.type) {
    case 'heading': {
      const Tag = HEADING_TAGS[block.level - 1] ?? 'h6';
      return (
        <Tag key={key} className={`md-h md-h${block.level}`}>
          {renderInline(block.children)}
        </Tag>
      );
    }
    case 'paragraph':
      return <p key={key}>{renderInline(block.children)}</p>;
    case 'list': {
      const items = block.items.map((item, itemIndex) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: list items have no identity beyond their position
        <li key={itemIndex}>{renderInline(item)}</li>
      ));
      return block.ordered ? (
        <ol key={key} start={block.start}>
          {items}
        </ol>
      ) : (
        <ul key={key}>{items}</ul>
      );
    }
    case 'code':
      return (
        <pre key={key} data-language={block.language || undefined}>
          <code>{block.text}</code>
        </pre>
      );
    case 'quote':
      return <blockquote key={key}>{renderBlocks(block.children)}</blockquote>;
    case 'rule':
      return <hr key={key} />;
  }
}

/** Renders Markdown as React elements; HTML in the source is shown as text, never interpreted. */
export function MarkdownView({ source }: { source: string }) {
  return <div className="markdown">{renderBlocks(parseMarkdown(source))}</div>;
}
