// The home grid index.html draws from the server's first answer (before this script has even
// downloaded) gives way to the app's own screen once that has something to show.

/** Removes the pre-drawn first screen and shows the app; safe to call any number of times. */
export function revealApp(): void {
  if (typeof document === 'undefined') return;
  document.getElementById('prerender')?.remove();
  document.documentElement.classList.remove('prerendered');
}
