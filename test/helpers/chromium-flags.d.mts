/** Debian's Chromium. */
export declare const CHROMIUM: string;
/** The flags that work on a machine without network. */
export declare const CHROMIUM_ARGS: string[];
