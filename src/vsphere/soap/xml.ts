// XML for vim25: request builders that escape every value, and a namespace-aware parser.
// vcsim writes `xmlns:XMLSchema-instance="…" XMLSchema-instance:type="…"` where vCenter writes
// `xsi:type`, and a MoRef element carries both that attribute and `type="VirtualMachine"`, so
// attribute prefixes are resolved to namespace URIs instead of being stripped.
import { XMLParser } from 'fast-xml-parser';
import type { MoRef } from '../types.js';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

// ---------- building ----------

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** `<name>value</name>`; undefined values produce nothing (optional fields). */
export function el(name: string, value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** `<name>` around already-built XML. */
export function raw(name: string, inner: string, xsiType?: string): string {
  const t = xsiType ? ` xsi:type="${escapeXml(xsiType)}"` : '';
  return `<${name}${t}>${inner}</${name}>`;
}

export function moref(name: string, ref: MoRef): string {
  return `<${name} type="${escapeXml(ref.type)}">${escapeXml(ref.value)}</${name}>`;
}

export function envelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Body><${bodyTag(body)}</soapenv:Body></soapenv:Envelope>`
  );
}

// Puts the vim25 default namespace on the method element: `<Login>` → `<Login xmlns="urn:vim25">`.
function bodyTag(body: string): string {
  const m = /^<([A-Za-z_][\w.-]*)/.exec(body);
  if (!m) throw new Error('SOAP body must start with an element');
  return `${m[1]} xmlns="urn:vim25"${body.slice(m[0].length)}`;
}

// ---------- parsing ----------

/** An element with its prefix stripped, its xsi:type resolved by URI, and its other attributes. */
export interface XmlNode {
  name: string;
  xsiType?: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entities are decoded below: the parser leaves numeric references (Go writes &#34; &#xA;) as is.
  processEntities: false,
});

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    switch (e) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(
          e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10),
        );
    }
  });
}

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

function localName(q: string): string {
  const i = q.indexOf(':');
  return i < 0 ? q : q.slice(i + 1);
}

function convert(item: Ordered, scope: Map<string, string>): XmlNode | undefined {
  const tag = Object.keys(item).find((k) => k !== ':@');
  if (!tag || tag === '#text' || tag.startsWith('?')) return undefined;
  const rawAttrs = item[':@'] ?? {};
  let local = scope;
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k.startsWith('xmlns:')) {
      if (local === scope) local = new Map(scope);
      local.set(k.slice(6), decodeEntities(v));
    }
  }
  const node: XmlNode = { name: localName(tag), attrs: {}, children: [], text: '' };
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    const i = k.indexOf(':');
    if (i > 0 && local.get(k.slice(0, i)) === XSI_NS) {
      if (localName(k) === 'type') node.xsiType = localName(decodeEntities(v));
      continue;
    }
    node.attrs[i > 0 ? k : k] = decodeEntities(v);
  }
  const kids = (item[tag] as Ordered[]) ?? [];
  let text = '';
  for (const k of kids) {
    if ('#text' in k) text += String(k['#text']);
    else {
      const c = convert(k, local);
      if (c) node.children.push(c);
    }
  }
  node.text = node.children.length ? '' : decodeEntities(text);
  return node;
}

/** Parses a document and returns its root element. */
export function parseXml(xml: string): XmlNode {
  const doc = parser.parse(xml) as Ordered[];
  for (const item of doc) {
    const n = convert(item, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
    if (n) return n;
  }
  throw new Error('empty XML document');
}

export function child(n: XmlNode | undefined, name: string): XmlNode | undefined {
  return n?.children.find((c) => c.name === name);
}

export function children(n: XmlNode | undefined, name: string): XmlNode[] {
  return n ? n.children.filter((c) => c.name === name) : [];
}

export function textOf(n: XmlNode | undefined, name: string): string | undefined {
  return child(n, name)?.text;
}

export function toMoRef(n: XmlNode | undefined): MoRef | undefined {
  if (!n) return undefined;
  return { type: n.attrs.type ?? n.xsiType ?? '', value: n.text };
}

// ---------- generic values ----------

/** A decoded data object: fields by element name (arrays when repeated), `_type` from xsi:type. */
export type XmlValue = string | MoRef | XmlObject | XmlValue[];
export interface XmlObject {
  _type?: string;
  [field: string]: XmlValue | undefined;
}

/**
 * Converts an element to plain data. Leaves become strings (decoders parse numbers and booleans);
 * MoRef elements become { type, value }; `ArrayOf…` wrappers become arrays; repeated children become arrays.
 */
export function toValue(n: XmlNode): XmlValue {
  if (n.xsiType?.startsWith('ArrayOf')) return n.children.map(toValue);
  if (!n.children.length) {
    if (n.attrs.type !== undefined && (n.xsiType === undefined || n.xsiType === 'ManagedObjectReference')) {
      return { type: n.attrs.type, value: n.text } satisfies MoRef;
    }
    if (
      n.xsiType &&
      !/^(xsd:)?(string|int|long|short|byte|boolean|dateTime|float|double|base64Binary)$/.test(n.xsiType) &&
      n.text === ''
    ) {
      return { _type: n.xsiType };
    }
    return n.text;
  }
  const o: XmlObject = {};
  if (n.xsiType) o._type = n.xsiType;
  for (const c of n.children) {
    const v = toValue(c);
    const prev = o[c.name];
    if (prev === undefined) o[c.name] = v;
    else if (Array.isArray(prev) && (prev as unknown as { _multi?: boolean })._multi)
      (prev as XmlValue[]).push(v);
    else {
      const arr = [prev, v] as XmlValue[] & { _multi?: boolean };
      Object.defineProperty(arr, '_multi', { value: true, enumerable: false });
      o[c.name] = arr;
    }
  }
  return o;
}

/** Always an array: for fields that may occur once or many times. */
export function arr<T = XmlValue>(v: XmlValue | undefined): T[] {
  if (v === undefined || v === '') return [];
  return (Array.isArray(v) ? v : [v]) as T[];
}
