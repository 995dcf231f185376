// The bashcoder extension: starts `bashcoder-lsp` for shell scripts and shows its status.
// Completions (ghost text and menu) come from vscode-languageclient's built-in features
// as soon as the server advertises them; this file only wires the client up.
import * as vscode from 'vscode';
import {
  ClientCapabilities,
  ExecuteCommandRequest,
  Executable,
  FeatureState,
  LanguageClient,
  State,
  StaticFeature,
} from 'vscode-languageclient/node';

/** The settings section; its keys mirror SETTING_KEYS in bashcoder/server/settings.py. */
export const SECTION = 'bashcoder';
const GENERATE = 'bashcoder.generate';

/** Params of the server's `bashcoder/status` notification. */
interface Status {
  device: string;
  latencyMs: number | null;
  model: string;
}

/** Asks the server for a `bashcoder/status` after every completion (the latency in the status bar);
 * clients that do not ask get one when the model loads only. */
const statusPerCompletion: StaticFeature = {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.experimental = { ...(capabilities.experimental ?? {}), bashcoderStatus: true };
  },
  initialize(): void {},
  getState(): FeatureState {
    return { kind: 'static' };
  },
  clear(): void {},
};

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem;
let output: vscode.LogOutputChannel;
let fallbackGenerate: vscode.Disposable | undefined;

/** Arguments of `bashcoder.generate`: the document URI and the cursor line (0-based). */
function generateArgs(args: unknown[]): unknown[] {
  const editor = vscode.window.activeTextEditor;
  if (args.length > 0 || !editor) {
    return args;
  }
  return [editor.document.uri.toString(), editor.selection.active.line];
}

async function startClient(): Promise<void> {
  // The whole section goes to the server, which ignores client-only keys (serverPath, trace.server).
  const settings = vscode.workspace.getConfiguration().get<Record<string, unknown>>(SECTION) ?? {};
  const command = vscode.workspace.getConfiguration(SECTION).get<string>('serverPath') || 'bashcoder-lsp';
  // No `transport`: with TransportKind.stdio the client would append `--stdio` to the command line,
  // which a user's own serverPath (a wrapper script, say) need not accept. Plain stdio it is anyway.
  const server: Executable = { command };
  const next = new LanguageClient(SECTION, 'bashcoder', { run: server, debug: server }, {
    documentSelector: [
      { scheme: 'file', language: 'shellscript' },
      { scheme: 'untitled', language: 'shellscript' },
    ],
    initializationOptions: JSON.parse(JSON.stringify(settings)),
    outputChannel: output,
    synchronize: { configurationSection: SECTION },
    // The client registers the server's commands itself; from the palette they come without arguments.
    middleware: { executeCommand: (cmd, args, run) => run(cmd, cmd === GENERATE ? generateArgs(args) : args) },
  });
  next.registerFeature(statusPerCompletion);
  client = next;
  next.onNotification('bashcoder/status', (s: Status) => {
    const latency = typeof s.latencyMs === 'number' ? ` · ${Math.round(s.latencyMs)} ms` : '';
    status.text = `$(sparkle) bashcoder: ${s.device}${latency}`;
    status.tooltip = `bashcoder model: ${s.model}\nClick for the server output.`;
  });
  next.onDidChangeState((e) => {
    if (e.newState === State.Stopped) {
      status.text = '$(error) bashcoder';
      status.tooltip = 'The bashcoder server stopped. Click for its output.';
    }
  });
  status.text = '$(sync~spin) bashcoder';
  status.tooltip = `Starting ${command}`;
  try {
    await next.start();
  } catch (err) {
    status.text = '$(error) bashcoder';
    status.tooltip = `Could not start ${command}`;
    void vscode.window.showErrorMessage(
      `bashcoder: could not start "${command}" (${err}). Install bashcoder or set "bashcoder.serverPath".`,
    );
    return;
  }
  const advertised = next.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  if (!advertised.includes(GENERATE)) {
    // The server did not advertise the command, so the client did not register it: send it directly.
    fallbackGenerate = vscode.commands.registerCommand(GENERATE, () =>
      next.sendRequest(ExecuteCommandRequest.type, { command: GENERATE, arguments: generateArgs([]) }),
    );
  }
}

async function stopClient(): Promise<void> {
  const old = client;
  client = undefined;
  fallbackGenerate?.dispose();
  fallbackGenerate = undefined;
  if (old?.isRunning()) {
    await old.dispose(); // stops the server and drops the commands the client registered
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('bashcoder', { log: true });
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.command = 'bashcoder.showOutput';
  status.show();
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand('bashcoder.showOutput', () => output.show()),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration(`${SECTION}.serverPath`)) {
        await stopClient();
        await startClient();
      }
    }),
  );
  await startClient();
}

export function deactivate(): Promise<void> {
  return stopClient();
}
