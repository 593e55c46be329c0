/**
 * Some browsers report a language tag their own Intl refuses (Chromium started with LANG=C says
 * "en-US@posix"). uPlot formats numbers in navigator.language as it loads, and would throw before
 * the console could draw anything: such a browser is given a tag Intl knows. Imported first.
 */
function usable(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (!usable(navigator.language)) {
  const fallback = navigator.language.split(/[@_]/)[0] ?? '';
  Object.defineProperty(navigator, 'language', {
    configurable: true,
    get: () => (fallback && usable(fallback) ? fallback : 'en-GB'),
  });
}
