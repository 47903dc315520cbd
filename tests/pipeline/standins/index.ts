export { SourceSite, type SourceProductDoc, type PageFormat } from "./source-site.js";
export { LibreTranslateStandin } from "./libretranslate.js";
export { StoreStandin } from "./store-api.js";

/**
 * Where `npm run standins` (scripts/standins.ts) puts each stand-in unless its variable says
 * otherwise. services/config.ts's TRANSLATION_URL and STORE_URL defaults point at the last two.
 */
export const STANDIN_PORTS = { STANDIN_SOURCE_PORT: 4100, STANDIN_TRANSLATE_PORT: 5000, STANDIN_STORE_PORT: 4000 } as const;
