// CSV (RFC 4180) reading and writing, done in the browser.
// Export: ';' as separator and a UTF-8 byte order mark, which German spreadsheet
// programs open correctly. Import: the separator (';', ',' or tab) is detected
// from the header line. Cells that a spreadsheet would run as a formula get a
// leading apostrophe on export, which import removes again.

const FORMULA = /^[=+\-@\t\r]/;

export function toCsv(rows, sep = ';') {
  const cell = (v) => {
    let s = v === null || v === undefined ? '' : String(v);
    if (FORMULA.test(s) && !/^-?\d+([.,]\d+)?$/.test(s)) s = `'${s}`;
    return /["\r\n]/.test(s) || s.includes(sep) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `\ufeff${rows.map((r) => r.map(cell).join(sep)).join('\r\n')}\r\n`;
}

function detectSeparator(text) {
  let inQ = false;
  const counts = { ';': 0, ',': 0, '\t': 0 };
  for (const ch of text) {
    if (ch === '"') inQ = !inQ;
    else if (!inQ && (ch === '\n' || ch === '\r')) break;
    else if (!inQ && ch in counts) counts[ch] += 1;
  }
  const [best, n] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0];
  return n ? best : ';';
}

/** Parses CSV text into an array of rows (arrays of strings). Throws on an unclosed quote. */
export function parseCsv(text, sep) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  sep = sep || detectSeparator(text);
  const rows = [];
  let row = [];
  let cell = '';
  let i = 0;
  let inQ = false;
  const n = text.length;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  while (i < n) {
    const ch = text[i];
    if (inQ) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        inQ = false;
        i += 1;
        continue;
      }
      cell += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && cell === '') {
      inQ = true;
      i += 1;
      continue;
    }
    if (ch === sep) {
      endCell();
      i += 1;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endCell();
      rows.push(row);
      row = [];
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    cell += ch;
    i += 1;
  }
  if (inQ) throw new Error('unclosed quote');
  if (cell !== '' || row.length) {
    endCell();
    rows.push(row);
  }
  // Drop completely empty lines.
  const out = rows.filter((r) => r.some((c) => c.trim() !== ''));
  // Undo the apostrophe that toCsv put before formula-like cells.
  return out.map((r) => r.map((c) => (c.startsWith("'") && FORMULA.test(c.slice(1)) ? c.slice(1) : c)));
}

/** Saves text as a file download. */
export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
    a.remove();
  }, 1000);
}
