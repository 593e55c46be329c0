import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';

/** An API Gateway HTTP API event whose JWT authorizer passed, with the token's claims. */
export function httpApiRequest(
  method: string,
  rawPath: string,
  claims: Record<string, string>,
  options: { body?: string; query?: Record<string, string>; base64?: boolean } = {},
): APIGatewayProxyEventV2WithJWTAuthorizer {
  return {
    version: '2.0',
    routeKey: 'ANY /api/{proxy+}',
    rawPath,
    rawQueryString: '',
    headers: {},
    queryStringParameters: options.query,
    isBase64Encoded: options.base64 ?? false,
    body: options.body,
    requestContext: {
      accountId: '111111111111',
      apiId: 'api',
      domainName: 'example',
      domainPrefix: 'example',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: 'ANY /api/{proxy+}',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
    },
  };
}
