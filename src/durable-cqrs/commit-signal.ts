import { Injectable } from '@nestjs/common';
import type { DomainEvent } from './domain-event.js';

type Listener = (events: DomainEvent[]) => void;

/** In-process signal from a commit to the consumer: no poll interval between them. */
@Injectable()
export class CommitSignal {
  private readonly listeners: Listener[] = [];

  onCommitted(listener: Listener): void {
    this.listeners.push(listener);
  }

  committed(events: DomainEvent[]): void {
    for (const listener of this.listeners) listener(events);
  }
}
