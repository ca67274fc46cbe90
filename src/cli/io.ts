/** Where a command writes, and what it reads from its environment: passed in, so tests hold both. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** A mistake the user can fix, said with what to do; the CLI prints it without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** `--name value` and `--name=value` options, and the positional words left over. */
export function parseArgs(args: readonly string[]): { positional: string[]; options: Map<string, string> } {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      if (eq > 0) options.set(arg.slice(2, eq), arg.slice(eq + 1));
      else if (i + 1 < args.length && !args[i + 1]!.startsWith("--")) options.set(arg.slice(2), args[++i]!);
      else options.set(arg.slice(2), "true");
    } else {
      positional.push(arg);
    }
  }
  return { positional, options };
}
