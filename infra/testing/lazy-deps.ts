/**
 * Importing @pulumi/pulumi loads TypeScript (a 9 MB module) and @npmcli/arborist eagerly, about
 * 1.2 s of a mocked run on an idle machine, though only closure serialization (function
 * serialization, dynamic providers, code paths) ever uses them and this program does not. For the
 * plan renderer (plan.ts, infra-plan.json) both modules are registered in the CommonJS cache as
 * proxies that load the real module on first use: same behaviour, paid only if used.
 *
 * It must be evaluated before @pulumi/pulumi loads. Node runs a CommonJS module imported by ESM
 * ahead of the ESM modules of the same graph, so the importer must load @pulumi/* dynamically
 * after importing this (plan.ts imports the program on first render). It does nothing when
 * @pulumi/pulumi is already loaded or its layout differs (the modules then load eagerly, as
 * before). The Pulumi program itself (index.ts, run by the engine) never imports it.
 */
import Module, { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** Registers `file` in the CommonJS cache as a proxy of the module `file` holds, loaded on first use. */
function lazyModule(file: string): void {
  let real: Record<PropertyKey, unknown> | undefined;
  const load = (): Record<PropertyKey, unknown> => {
    if (real === undefined) {
      delete require.cache[file];
      real = require(file) as Record<PropertyKey, unknown>;
    }
    return real;
  };
  const exports = new Proxy({} as Record<PropertyKey, unknown>, {
    // __esModule: tsc's __importStar hands the proxy through instead of copying every key (a load).
    get: (_, key) => (key === "__esModule" ? true : load()[key]),
    set: (_, key, value) => Reflect.set(load(), key, value),
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
  const cached = new Module(file);
  cached.filename = file;
  cached.loaded = true;
  cached.exports = exports;
  require.cache[file] = cached;
}

function install(): void {
  let pulumiMain: string;
  let files: string[];
  try {
    pulumiMain = require.resolve("@pulumi/pulumi");
    const fromPulumi = createRequire(pulumiMain);
    files = [fromPulumi.resolve("./typescript-shim.js"), fromPulumi.resolve("@npmcli/arborist")];
  } catch {
    return;
  }
  if (require.cache[pulumiMain]) return;
  for (const file of files) if (!require.cache[file]) lazyModule(file);
}

install();
