// A static check of the Mini Program bundle: which globals that a Mini
// Program lacks it would touch on the paths it actually runs.

import assert from 'node:assert/strict';
import ts from 'typescript';

/** Globals a Mini Program lacks. */
const MISSING_GLOBALS = new Set(['TextEncoder', 'TextDecoder', 'fetch', 'WebAssembly']);
/**
 * The wasm-bindgen glue's own loaders: they use fetch and WebAssembly, stay
 * in the bundle (the glue is imported as a namespace), but the Mini Program
 * entry instantiates through WXWebAssembly and never calls them.
 */
const UNUSED_LOADERS = new Set(['__wbg_load', 'initSync', '__wbg_init', '__wbg_init_once']);

/**
 * Reads the bundle's syntax tree and lists, as "line: problem", every
 * reference to a missing global outside the unused loaders (TextEncoder and
 * TextDecoder are fine when the bundle declares them itself, which is how
 * the build injects js/core/utf8.js), and every call of an unused loader.
 */
export function findMissingGlobals(source) {
  const file = ts.createSourceFile('index.js', source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const declaredAtTopLevel = new Set();
  const loaderBodies = [];
  for (const statement of file.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name) {
      declaredAtTopLevel.add(statement.name.text);
      if (UNUSED_LOADERS.has(statement.name.text)) loaderBodies.push(statement);
    } else if (ts.isClassDeclaration(statement) && statement.name) {
      declaredAtTopLevel.add(statement.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) declaredAtTopLevel.add(declaration.name.text);
      }
    }
  }
  assert.equal(loaderBodies.length, UNUSED_LOADERS.size, 'the glue loaders are where they are expected; update UNUSED_LOADERS if the glue changed');

  const insideLoader = (node) => loaderBodies.some((loader) => node.pos >= loader.pos && node.end <= loader.end);
  const line = (node) => file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const problems = [];
  const visit = (node) => {
    if (insideLoader(node)) return;
    if (ts.isCallExpression(node)) {
      const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression;
      if (ts.isIdentifier(callee) && UNUSED_LOADERS.has(callee.text)) problems.push(`${line(node)}: calls ${callee.text}`);
    }
    if (ts.isIdentifier(node) && MISSING_GLOBALS.has(node.text) && isReference(node)) {
      const bound = node.text.startsWith('Text') && declaredAtTopLevel.has(node.text);
      if (!bound) problems.push(`${line(node)}: uses the global ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return problems;
}

/** Whether an identifier names a variable, not a property or a declaration's own name. */
function isReference(node) {
  const { parent } = node;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)) && parent.name === node) return false;
  if ((ts.isVariableDeclaration(parent) || ts.isClassDeclaration(parent) || ts.isClassExpression(parent) || ts.isFunctionDeclaration(parent)) && parent.name === node) return false;
  return true;
}
