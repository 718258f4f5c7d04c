import hljs from 'highlight.js/lib/core';
import python from 'highlight.js/lib/languages/python';
import scala from 'highlight.js/lib/languages/scala';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';

// Only the four languages DAGs and statements are written in: the full bundle is ~1 MB.
hljs.registerLanguage('typescript', typescript);
hljs.registerLanguage('sql', sql);
hljs.registerLanguage('scala', scala);
hljs.registerLanguage('python', python);

/** HTML with every character of the source escaped by highlight.js. */
export function highlight(text: string, language: string): string {
  const lang = hljs.getLanguage(language) ? language : 'plaintext';
  if (lang === 'plaintext') return escapeHtml(text);
  return hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
