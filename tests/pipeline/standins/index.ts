export { SourceSite, type SourceProductDoc, type PageFormat } from "./source-site.js";
export { LibreTranslateStandin } from "./libretranslate.js";
export { StoreStandin } from "./store-api.js";
