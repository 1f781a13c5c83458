// Variants of the built wasm module for the startup measure's size sweep
// (bench/startup.mjs, STARTUP_SIZES=1): the same imports, exports, tables and data, with
// less code or more bytes, so that their cold starts say what the module's size costs.
// They are valid modules to compile and instantiate (with stub imports), not workers.

const CODE_SECTION = 10;

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

function leb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

function section(id, content) {
  return Buffer.concat([Buffer.from([id]), leb(content.length), content]);
}

/** The module's sections, as [id, content] in order. */
function sections(module) {
  const out = [];
  let at = 8;
  while (at < module.length) {
    const id = module[at];
    const [size, start] = readLeb(module, at + 1);
    out.push([id, module.subarray(start, start + size)]);
    at = start + size;
  }
  return out;
}

function assemble(module, parts) {
  return Buffer.concat([module.subarray(0, 8), ...parts.map(([id, content]) => section(id, content))]);
}

/**
 * The module with only about `fraction` of its function bodies' bytes kept: the bodies
 * after that point become `unreachable` (three bytes each), which validates for any
 * signature. Compiling it costs what compiling that much code costs.
 */
export function withCodeFraction(module, fraction) {
  return assemble(
    module,
    sections(module).map(([id, content]) => {
      if (id !== CODE_SECTION) return [id, content];
      let [count, at] = readLeb(content, 0);
      const bodies = [];
      for (let i = 0; i < count; i++) {
        const [size, start] = readLeb(content, at);
        bodies.push(content.subarray(start, start + size));
        at = start + size;
      }
      const total = bodies.reduce((n, b) => n + b.length, 0);
      let kept = 0;
      const stub = Buffer.from([0x00, 0x00, 0x0b]); // no locals, unreachable, end
      const out = bodies.map((body) => {
        if (kept + body.length > total * fraction) return stub;
        kept += body.length;
        return body;
      });
      return [id, Buffer.concat([leb(count), ...out.flatMap((body) => [leb(body.length), body])])];
    }),
  );
}

/** The module with a custom section of `bytes` zeros appended: more bytes, the same code. */
export function withPadding(module, bytes) {
  const name = Buffer.from("startup-padding");
  return Buffer.concat([module, section(0, Buffer.concat([leb(name.length), name, Buffer.alloc(bytes)]))]);
}
