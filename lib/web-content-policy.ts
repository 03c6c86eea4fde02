/**
 * The web app's Content-Security-Policy, written once for both places that serve the app: CloudFront on
 * AWS (lib/infra/web.ts) and the embedded stack (lib/local/web-routes.ts). Its own scripts, styles,
 * images and fonts only; API calls to `connectSources` besides its own origin; never framed. No imports:
 * the embedded stack must not load aws-cdk-lib to serve a page.
 */
export function webContentSecurityPolicy(connectSources: readonly string[], options: { upgradeInsecureRequests: boolean }): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "manifest-src 'self'",
    ["connect-src 'self'", ...connectSources].join(' '),
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    // Only where the app is served over https: the embedded stack serves http on this machine.
    ...(options.upgradeInsecureRequests ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}
