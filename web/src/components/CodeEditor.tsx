// The code editor: CodeMirror 6 with JavaScript, line numbers and the builder's colours (styles.css, --code-*).
// Imported lazily by CodeField, so CodeMirror is a chunk of its own that only a form with a code field loads.
//
// Keys: Tab indents (Shift+Tab outdents), so Escape is the way out: it moves focus to the frame around the editor,
// from where Tab goes on through the form. Ctrl/Cmd+Enter is left to the builder (Run) rather than CodeMirror's
// "insert blank line". Styles: CodeMirror mounts its own (a constructed style sheet in browsers that have them, else
// a <style>); the content policy's style-src already allows inline styles, which React's style attributes need too.

import { defaultKeymap, history, historyKeymap, indentLess, indentMore } from '@codemirror/commands';
import { javascriptLanguage } from '@codemirror/lang-javascript';
import { bracketMatching, HighlightStyle, indentOnInput, indentUnit, LanguageSupport, syntaxHighlighting } from '@codemirror/language';
import { Annotation, EditorState, Transaction } from '@codemirror/state';
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  placeholder as placeholderText,
  type Command,
} from '@codemirror/view';
import { tags as t } from '@lezer/highlight';
import { useEffect, useImperativeHandle, useLayoutEffect, useRef, type Ref } from 'react';

export interface CodeEditorHandle {
  /** Puts `text` over the selection (at the end if the editor was never focused) and focuses the editor. */
  insert(text: string): void;
  focus(): void;
}

export interface CodeEditorProps {
  value: string;
  onChange: (value: string) => void;
  /** Escape was pressed with nothing for the editor to do with it. */
  onEscape: () => void;
  labelledBy: string;
  describedBy?: string;
  invalid: boolean;
  placeholder?: string;
  ref?: Ref<CodeEditorHandle>;
}

/** Marks the transaction that puts an outside value (undo on the canvas, another node) into the editor. */
const fromOutside = Annotation.define<boolean>();

/** Tab: indent the selected lines, or with no selection put one indent unit at the cursor. */
const indentOrInsert: Command = (view) => {
  const { state } = view;
  if (state.selection.ranges.some((r) => !r.empty)) return indentMore(view);
  view.dispatch(state.update(state.replaceSelection(state.facet(indentUnit)), { scrollIntoView: true, userEvent: 'input' }));
  return true;
};

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.operatorKeyword], color: 'var(--code-keyword)' },
  { tag: [t.string, t.special(t.string), t.regexp], color: 'var(--code-string)' },
  { tag: [t.number, t.bool, t.null, t.atom], color: 'var(--code-number)' },
  { tag: [t.lineComment, t.blockComment], color: 'var(--code-comment)', fontStyle: 'italic' },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: 'var(--code-function)' },
  { tag: t.propertyName, color: 'var(--code-property)' },
  { tag: t.invalid, color: 'var(--danger)' },
]);

// Sizes and colours that must beat CodeMirror's own base theme, which a plain style sheet would not.
const theme = EditorView.theme({
  '&': { fontSize: '12.5px', backgroundColor: 'var(--surface)', color: 'var(--text)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.55', minHeight: '168px', maxHeight: '420px' },
  '.cm-content': { padding: '6px 0', caretColor: 'var(--text)' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-lineNumbers .cm-gutterElement': { padding: '0 8px 0 10px', minWidth: '30px' },
  '.cm-activeLine': { backgroundColor: 'var(--code-active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--code-active-line)', color: 'var(--text-2)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--code-selection)' },
  '&.cm-focused .cm-matchingBracket': { backgroundColor: 'var(--code-selection)', outline: '1px solid var(--border-strong)' },
  '.cm-placeholder': { color: '#9aa5b4' },
});

export default function CodeEditor({ value, onChange, onEscape, labelledBy, describedBy, invalid, placeholder, ref }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const focusedOnce = useRef(false);
  // The editor is made once; these let its handlers call the latest props.
  const latest = useRef({ onChange, onEscape });
  useLayoutEffect(() => {
    latest.current = { onChange, onEscape };
  });

  useEffect(() => {
    const leave: Command = () => {
      latest.current.onEscape();
      return true;
    };
    const extensions = [
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightActiveLine(),
      drawSelection(),
      // The inspector is 270–350 px wide: long lines wrap (numbers stay per line) rather than scroll sideways.
      EditorView.lineWrapping,
      history(),
      indentOnInput(),
      bracketMatching(),
      indentUnit.of('  '),
      EditorState.tabSize.of(2),
      // The language alone: javascript() adds completion sources, and this editor has no completion.
      new LanguageSupport(javascriptLanguage),
      syntaxHighlighting(highlight),
      theme,
      keymap.of([
        { key: 'Tab', run: indentOrInsert, shift: indentLess },
        ...defaultKeymap.filter((binding) => binding.key !== 'Mod-Enter'),
        ...historyKeymap,
        // After the default Escape (which first folds several cursors into one).
        { key: 'Escape', run: leave },
      ]),
      EditorView.updateListener.of((update) => {
        if (update.focusChanged && update.view.hasFocus) focusedOnce.current = true;
        if (update.docChanged && !update.transactions.some((tr) => tr.annotation(fromOutside)))
          latest.current.onChange(update.state.doc.toString());
      }),
      EditorView.contentAttributes.of({ 'aria-multiline': 'true', 'aria-labelledby': labelledBy, 'data-testid': 'code-input' }),
      ...(placeholder ? [placeholderText(placeholder)] : []),
    ];
    const made = new EditorView({ parent: host.current!, state: EditorState.create({ doc: value, extensions }) });
    view.current = made;
    return () => {
      made.destroy();
      view.current = null;
    };
    // Made once per mount: the value follows below, and the field remounts for another node.
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (!editor || editor.state.doc.toString() === value) return;
    editor.dispatch({
      changes: { from: 0, to: editor.state.doc.length, insert: value },
      annotations: [fromOutside.of(true), Transaction.addToHistory.of(false)],
    });
  }, [value]);

  useEffect(() => {
    const content = view.current?.contentDOM;
    if (!content) return;
    content.setAttribute('aria-invalid', String(invalid));
    if (describedBy) content.setAttribute('aria-describedby', describedBy);
    else content.removeAttribute('aria-describedby');
  }, [invalid, describedBy]);

  useImperativeHandle(
    ref,
    () => ({
      insert(text) {
        const editor = view.current;
        if (!editor) return;
        const { state } = editor;
        const at = state.doc.length;
        editor.dispatch(
          focusedOnce.current
            ? state.update(state.replaceSelection(text), { scrollIntoView: true, userEvent: 'input' })
            : state.update({ changes: { from: at, insert: text }, selection: { anchor: at + text.length }, scrollIntoView: true, userEvent: 'input' }),
        );
        editor.focus();
      },
      focus() {
        view.current?.focus();
      },
    }),
    [],
  );

  return <div ref={host} className={`code-editor__host${invalid ? ' is-invalid' : ''}`} />;
}
