/**
 * ESLint rule (type-aware): a promise started, then an `await` reached before
 * anything handles that promise. If the await throws, the promise is left
 * without a handler; when it rejects too, Node reports an unhandled rejection
 * and (by default) exits, taking Node-RED down although the caller caught
 * the first error. `no-floating-promises` does not see this: the promise is
 * awaited later, on the path where nothing threw.
 *
 *   together(this.system(), this.get(`${await this.links.uri()}`))   // reported
 *   const a = this.read(); const b = await this.other(); await a;    // reported
 *
 * Fixes: await the independent part first, start the promise inside an async
 * function that does its own await, or attach a handler before awaiting.
 */

/** Whether the TypeScript type (or a member of its union) has a callable `then`. */
function isThenable(checker, type) {
  for (const t of type.isUnion() ? type.types : [type]) {
    const then = checker.getPropertyOfType(t, 'then');
    if (then && checker.getTypeOfSymbol(then).getCallSignatures().length > 0) return true;
  }
  return false;
}

const FUNCTION = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/**
 * The first `await` evaluated inside `node` (not inside a nested function)
 * that can throw, or undefined. `await p.catch(h)` cannot throw (unless h does).
 */
function firstAwait(node, keys) {
  if (!node || typeof node.type !== 'string' || FUNCTION.has(node.type)) return undefined;
  if (node.type === 'AwaitExpression' && !handled(node.argument)) return node;
  if (node.type === 'ForOfStatement' && node.await) return node;
  for (const k of keys[node.type] ?? []) {
    const v = node[k];
    for (const child of Array.isArray(v) ? v : [v]) {
      const found = firstAwait(child, keys);
      if (found) return found;
    }
  }
  return undefined;
}

/** `p.catch(h)` or `p.then(ok, fail)`: a handler is attached, the result cannot reject unseen. */
function handled(node) {
  if (node.type !== 'CallExpression' || node.callee.type !== 'MemberExpression' || node.callee.property.type !== 'Identifier') return false;
  const name = node.callee.property.name;
  return (name === 'catch' && node.arguments.length >= 1) || (name === 'then' && node.arguments.length >= 2);
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'disallow an await while a promise started before it has no handler yet' },
    schema: [],
    messages: {
      argument:
        'This promise is started before an `await` in a later argument; if that await throws, the promise is left unhandled and its rejection takes the process down. Await the later value first, or wrap the call in an async function.',
      variable:
        '`{{name}}` holds a promise nobody handles yet when this `await` runs; if it throws, `{{name}}` rejects unhandled and takes the process down. Await it first, attach a handler, or start it after.',
    },
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    if (!services?.program) throw new Error('no-await-while-promise-unhandled needs type information (parserOptions.projectService)');
    const checker = services.program.getTypeChecker();
    const keys = context.sourceCode.visitorKeys;
    const pending = (node) =>
      node.type !== 'AwaitExpression' && !FUNCTION.has(node.type) && !handled(node) && isThenable(checker, services.getTypeAtLocation(node));

    function checkSequence(items) {
      const list = items.filter((n) => n && n.type !== 'SpreadElement');
      for (let i = 0; i < list.length - 1; i++) {
        if (!pending(list[i])) continue;
        for (const later of list.slice(i + 1)) {
          const a = firstAwait(later, keys);
          if (a) return context.report({ node: a, messageId: 'argument' });
        }
        return;
      }
    }

    return {
      CallExpression: (node) => checkSequence(node.arguments),
      NewExpression: (node) => checkSequence(node.arguments),
      ArrayExpression: (node) => checkSequence(node.elements),
      VariableDeclarator(node) {
        if (!node.init || node.id.type !== 'Identifier' || !pending(node.init)) return;
        const [variable] = context.sourceCode.getDeclaredVariables(node);
        const uses = (variable?.references ?? []).filter((r) => r.identifier.range[0] > node.range[1]).map((r) => r.identifier.range[0]);
        const firstUse = uses.length ? Math.min(...uses) : Infinity;
        // Walk the statements after the declaration, in the same block, up to the first use.
        const decl = node.parent;
        const block = decl.parent;
        const body = block && Array.isArray(block.body) ? block.body : block && Array.isArray(block.consequent) ? block.consequent : undefined;
        if (!body) return;
        for (const stmt of body.slice(body.indexOf(decl) + 1)) {
          if (stmt.range[0] >= firstUse) return;
          const a = firstAwait(stmt, keys);
          // `await stopped` (the await that is the first use) is what should happen.
          const awaitsIt = a && a.range[0] <= firstUse && firstUse < a.range[1];
          if (a && !awaitsIt && a.range[0] < firstUse) return context.report({ node: a, messageId: 'variable', data: { name: node.id.name } });
        }
      },
    };
  },
};
