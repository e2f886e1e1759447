import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { NOTE_TEXT_ERROR, createNotes, isNoteText } from '@tenant/example-shared';

/**
 * Per-tenant notes. The store reads `requireTenant()` on every call, so a
 * handler cannot touch another tenant's notes by mistake. The controller is
 * a singleton: the tenant comes from the request's context, not from a
 * request-scoped provider.
 */
@Controller('notes')
export class NotesController {
  private readonly notes = createNotes();

  @Get()
  list() {
    return { items: this.notes.list() };
  }

  @Post()
  add(@Body() body: { text?: unknown } | undefined) {
    const text = body?.text;
    if (!isNoteText(text)) throw new BadRequestException(NOTE_TEXT_ERROR);
    return this.notes.add(text);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    const note = this.notes.get(id);
    if (!note) throw new NotFoundException('no such note');
    return note;
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string) {
    if (!this.notes.delete(id)) throw new NotFoundException('no such note');
  }
}
