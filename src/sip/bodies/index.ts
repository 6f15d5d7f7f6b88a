/** SIP message bodies for the pager-mode IM gateway: pure parsers and builders. */
export { type Result, type SizeLimit, DEFAULT_MAX_BYTES } from './result.js';
export { parseRfc3339, formatRfc3339 } from './datetime.js';
export { type ContentType, parseContentType, formatContentType } from './content-type.js';
export { type Charset, type DecodeOptions, decodeText, normalizeCharset } from './text.js';
export { type HtmlToImOptions, type ImFormatted, XHTML_IM_NS, XHTML_NS, htmlToIm, decodeHtmlEntities } from './html.js';
export {
  type Cpim, type CpimAddress, type CpimContent, type CpimHeader, type CpimImdn, type CpimInput, type CpimLimits,
  type BuildCpimOptions, type DispositionRequest, CPIM_HEADERS_NS, IMDN_NS, parseCpim, buildCpim, parseCpimAddress,
  escapeCpimValue, unescapeCpimValue,
} from './cpim.js';
export {
  type IsComposing, type IsComposingInput, ISCOMPOSING_NS, ISCOMPOSING_CONTENT_TYPE, parseIsComposing, buildIsComposing,
} from './iscomposing.js';
export {
  type Imdn, type ImdnInput, type ImdnKind, type ImdnStatus, IMDN_XML_NS, IMDN_CONTENT_TYPE, IMDN_STATUSES, parseImdn,
  buildImdn,
} from './imdn.js';
export {
  type XmlElement, type XmlLimits, DEFAULT_MAX_DEPTH, DEFAULT_MAX_ELEMENTS, parseXml, escapeXmlText, escapeXmlAttr,
  stripInvalidXmlChars, hasInvalidXmlChars,
} from './xml.js';
export {
  PIDF_NS, PIDF_DM_NS, RPID_NS, PIDF_IM_NS, JABBER_CLIENT_NS, PIDF_CONTENT_TYPE, parsePidf, buildPidf, formatPidfPriority, isNcName,
} from './pidf.js';
