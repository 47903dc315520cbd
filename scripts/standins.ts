/**
 * Local stand-ins for the services the pipeline talks to, for trying `npm start` by hand:
 *   a supplier site     http://127.0.0.1:4100  (product pages, images, a corrupt image)
 *   LibreTranslate      http://127.0.0.1:5000  (the default TRANSLATION_URL)
 *   a store API         http://127.0.0.1:4000  (the default STORE_URL; honours Idempotency-Key)
 * They are the same servers the end-to-end tests use (tests/pipeline/standins/).
 * Ports: STANDIN_SOURCE_PORT, STANDIN_TRANSLATE_PORT, STANDIN_STORE_PORT.
 */
import { LibreTranslateStandin, SourceSite, STANDIN_PORTS, StoreStandin } from "../tests/pipeline/standins/index.js";

function port(name: keyof typeof STANDIN_PORTS): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return STANDIN_PORTS[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    console.error(`${name}: "${raw}" is not a TCP port (0-65535)`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const site = await SourceSite.start({ port: port("STANDIN_SOURCE_PORT") });
  const translate = await LibreTranslateStandin.start({ port: port("STANDIN_TRANSLATE_PORT"), apiKey: process.env.TRANSLATION_API_KEY });
  const store = await StoreStandin.start({ port: port("STANDIN_STORE_PORT"), token: process.env.STORE_API_TOKEN });

  const samples = [
    site.setProduct("kettle", { title: "Electric kettle", description: "1.7 l, boils in three minutes.", price: "29.90", currency: "EUR", images: ["red.jpg", "blue.png"], format: "json" }),
    site.setProduct("lamp", { title: "Desk lamp", description: "Warm, dimmable light.", price: "45.00", currency: "EUR", images: ["green.jpg"], format: "json-ld" }),
    site.setProduct("mug", { title: "Coffee mug", description: "Holds 300 ml.", price: "9.50", currency: "EUR", images: ["blue.png"], format: "open-graph" }),
    site.setProduct("broken", { title: "Broken picture", description: "Its image is corrupt.", price: "1.00", currency: "EUR", images: ["corrupt.jpg"], format: "json" }),
  ];
  console.log(`source site     ${site.url}   sample products:\n  ${samples.join("\n  ")}`);
  console.log(`LibreTranslate  ${translate.url}`);
  console.log(`store API       ${store.url}   (GET ${store.url}/products lists what was pushed)`);
  console.log("Ctrl-C to stop.");

  const stop = async () => {
    await Promise.all([site.close(), translate.close(), store.close()]);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
