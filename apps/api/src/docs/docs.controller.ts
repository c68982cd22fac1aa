import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { buildOpenApiDocument } from './openapi-document';
import { SWAGGER_HTML, SWAGGER_INIT_JS, swaggerAsset } from './swagger-assets';

const API_VERSION = '0.1.0';

/** `/openapi.json` and the Swagger UI at `/docs`. No API key. */
@Controller()
export class DocsController {
  private document: Record<string, unknown> | undefined;

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    this.document ??= buildOpenApiDocument(API_VERSION);
    return this.document;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  docs(): string {
    return SWAGGER_HTML;
  }

  @Get('docs/:file')
  asset(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer | string {
    if (file === 'swagger-initializer.js') {
      void reply.type('application/javascript; charset=utf-8');
      return SWAGGER_INIT_JS;
    }
    const asset = swaggerAsset(file);
    if (!asset) throw new HotpathError(ErrorCode.NotFound, `no such file: /docs/${file.slice(0, 64)}`);
    void reply.type(asset.type).header('cache-control', 'public, max-age=86400');
    return asset.body;
  }
}
